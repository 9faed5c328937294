"""Static files: our CSS and JS, vendored HTMX, and plotly.js from the installed ``plotly``.

Nothing is fetched from a CDN: the dashboard must work on a machine with no internet access.
plotly.js is not copied into this package; it is served from the ``plotly`` Python package, so it
is always the build that package ships.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import plotly
from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from garrison.core.errors import NotFoundError

PLOTLY_CACHE_SECONDS = 7 * 24 * 3600

# Bundled libraries in plotly.js (maplibre's CSS since 4.x) add a <style> element with text at load
# time, unless an element with the style's id already exists. Our CSP refuses such elements, so
# pages give each of these ids an empty <style> first. The pattern runs over the plotly file we
# ship, never over request data, and has no nested repetition.
_STYLE_GUARD = re.compile(
    r'getElementById\("([0-9a-f]{16,128})"\)\)\{var [\w$]+=document\.createElement\("style"\)'
)

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def plotly_js_path() -> Path:
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise NotFoundError(
            f"plotly.js is missing from the installed plotly package ({path})",
            hint="reinstall plotly: pip install --force-reinstall plotly",
        )
    return path


@lru_cache(maxsize=1)
def plotly_style_guards() -> tuple[str, ...]:
    """The ids of the <style> elements plotly.js would otherwise fill with CSS on load."""
    text = plotly_js_path().read_text(encoding="utf-8", errors="replace")
    return tuple(dict.fromkeys(match.group(1) for match in _STYLE_GUARD.finditer(text)))


# Registered before the /static mount, which would otherwise answer this path with a 404.
@router.get("/static/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    return FileResponse(
        plotly_js_path(),
        media_type="text/javascript",
        headers={"Cache-Control": f"public, max-age={PLOTLY_CACHE_SECONDS}"},
    )


def static_dir() -> Path:
    return Path(str(files("garrison.web") / "static"))


def static_files() -> StaticFiles:
    return StaticFiles(directory=static_dir())
