/* Garrison dashboard behaviour. Loaded as a file: pages carry no inline script (strict CSP). */
(function () {
  "use strict";

  /* A chart is a <div data-chart="ID"> plus <script type="application/json" id="ID"> holding
     {data, layout, links}: the server decides what to draw, this file only draws it. */
  function renderChart(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || typeof window.Plotly === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    element.textContent = "";
    window.Plotly.newPlot(element, spec.data, spec.layout, {
      displayModeBar: false,
      responsive: true,
    });
    if (Array.isArray(spec.links)) {
      element.classList.add("chart--linked");
      element.on("plotly_click", function (event) {
        /* A heatmap point's index is [row, column]: the row is the link. */
        var index = event.points[0].pointIndex;
        var link = spec.links[Array.isArray(index) ? index[0] : index];
        /* Only same-site paths: a chart is never a way to leave the dashboard. */
        if (typeof link === "string" && link.charAt(0) === "/" && link.charAt(1) !== "/") {
          window.location.assign(link);
        }
      });
    }
  }

  function renderCharts(root) {
    root.querySelectorAll("[data-chart]").forEach(renderChart);
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderCharts(document);
  });

  /* Charts inside a fragment HTMX swapped in are drawn too. */
  document.addEventListener("htmx:afterSwap", function (event) {
    renderCharts(event.target);
  });
})();
