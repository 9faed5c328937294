from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from garrison.core.plugins import PluginError, PluginRegistry


def test_register_get_and_list() -> None:
    registry: PluginRegistry[type] = PluginRegistry("detectors")
    registry.load_entry_points([])

    @registry.decorator("shout")
    class Shout:
        pass

    assert registry.get("shout") is Shout
    assert registry.names() == ["shout"]
    with pytest.raises(PluginError, match="registered twice"):
        registry.register("shout", Shout)
    with pytest.raises(PluginError, match="no detectors plugin named 'whisper'") as excinfo:
        registry.get("whisper")
    assert excinfo.value.hint == "known detectors plugins: shout"


def test_entry_points_are_loaded_by_group_name() -> None:
    registry: PluginRegistry[object] = PluginRegistry("alert_channels")
    assert registry.group == "garrison.alert_channels"
    point = EntryPoint(name="ordered", value="collections:OrderedDict", group=registry.group)
    registry.load_entry_points([point])
    from collections import OrderedDict

    assert registry.get("ordered") is OrderedDict


def test_a_broken_entry_point_is_reported_by_name() -> None:
    registry: PluginRegistry[object] = PluginRegistry("actions")
    point = EntryPoint(name="broken", value="garrison_no_such_module:thing", group=registry.group)
    with pytest.raises(PluginError, match=r"actions plugin 'broken'.*failed to load"):
        registry.load_entry_points([point])
