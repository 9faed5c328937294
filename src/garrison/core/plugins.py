"""One small registry for every kind of plugin.

Discovery sources, detectors, alert channels, response actions and report importers all register
here, either in code (``registry.register``) or from another package through the entry-point group
``garrison.<kind>`` so that users add one without forking Garrison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from garrison.core.errors import GarrisonError

PluginT = TypeVar("PluginT")

ENTRY_POINT_PREFIX = "garrison."


class PluginError(GarrisonError):
    """A plugin is missing, registered twice, or failed to load."""


class PluginRegistry(Generic[PluginT]):
    """Plugins of one kind, by name. Entry points are read once, on first lookup."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._plugins: dict[str, PluginT] = {}
        self._entry_points_loaded = False

    @property
    def group(self) -> str:
        return f"{ENTRY_POINT_PREFIX}{self.kind}"

    def register(self, name: str, plugin: PluginT, *, replace: bool = False) -> PluginT:
        if name in self._plugins and not replace:
            raise PluginError(f"{self.kind} plugin {name!r} is registered twice")
        self._plugins[name] = plugin
        return plugin

    def decorator(self, name: str) -> Callable[[PluginT], PluginT]:
        """``@registry.decorator("name")`` registers the decorated object."""

        def wrap(plugin: PluginT) -> PluginT:
            return self.register(name, plugin)

        return wrap

    def load_entry_points(self, found: Iterable[EntryPoint] | None = None) -> None:
        """Register every plugin advertised under this registry's entry-point group.

        A plugin that fails to import is reported by name instead of being skipped silently.
        """
        points = entry_points(group=self.group) if found is None else found
        for point in points:
            if point.name in self._plugins:
                continue
            try:
                plugin = point.load()
            except Exception as exc:
                raise PluginError(
                    f"{self.kind} plugin {point.name!r} ({point.value}) failed to load: {exc}"
                ) from exc
            self._plugins[point.name] = plugin
        self._entry_points_loaded = True

    def _ensure_loaded(self) -> None:
        if not self._entry_points_loaded:
            self.load_entry_points()

    def get(self, name: str) -> PluginT:
        self._ensure_loaded()
        try:
            return self._plugins[name]
        except KeyError:
            known = ", ".join(sorted(self._plugins)) or "none"
            raise PluginError(
                f"no {self.kind} plugin named {name!r}", hint=f"known {self.kind} plugins: {known}"
            ) from None

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._plugins)

    def items(self) -> list[tuple[str, PluginT]]:
        self._ensure_loaded()
        return sorted(self._plugins.items())
