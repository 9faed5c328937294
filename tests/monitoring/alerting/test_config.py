"""alerting.yaml: the packaged file loads; broken files fail with file, line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.content import packaged_content_root
from garrison.core.errors import ContentError
from garrison.monitoring.alerting import load_alerting_config

PACKAGED = packaged_content_root() / "alerting.yaml"


def test_packaged_config_loads() -> None:
    config = load_alerting_config()
    assert config.tree.group_wait.total_seconds() == 30
    assert config.tree.repeat_interval.total_seconds() == 4 * 3600
    assert {r.name for r in config.receivers} >= {"soc-slack", "oncall-pagerduty"}


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = PACKAGED.read_text()
    assert old in text
    path = tmp_path / "alerting.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("old", "new", "problem", "needle"),
    [
        (
            "matchers: ['severity=\"critical\"']",
            "matchers: ['severity']",
            "no operator",
            "matchers: ['severity']",
        ),
        ("group_wait: 30s", "group_wait: soon", "duration", "group_wait: soon"),
        (
            "url_env: GARRISON_ALERT_SLACK_URL",
            "url: https://hooks.slack.com/x",
            "url",
            "url: https://hooks",
        ),
        ("type: webhook", "type: carrier-pigeon", "carrier-pigeon", "carrier-pigeon"),
        ("receiver: oncall-pagerduty", "receiver: nobody", "nobody", "receiver: nobody"),
        ("continue: true", "continue: true\n      bogus: 1", "unknown field", "bogus: 1"),
    ],
)
def test_broken_file_names_file_and_line(
    tmp_path: Path, old: str, new: str, problem: str, needle: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ContentError) as caught:
        load_alerting_config(path=path)
    error = caught.value
    assert error.path == path
    assert problem in str(error)
    assert error.line is not None
    # the error points at the broken line or the item that holds it
    assert error.line <= _line_of(path, needle)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "alerting.yaml"
    path.write_text("route:\n  receiver: [unclosed\n")
    with pytest.raises(ContentError) as caught:
        load_alerting_config(path=path)
    assert caught.value.line is not None
