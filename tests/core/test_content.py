from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from garrison.core.content import (
    ContentModel,
    content_file,
    content_files,
    load_content_file,
    parse_yaml,
    read_yaml,
)
from garrison.core.errors import ContentError


class Step(ContentModel):
    id: str
    minutes: int = Field(default=0, ge=0)


class Playbook(ContentModel):
    name: str
    steps: list[Step]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "pb.yaml", "name: triage\nsteps:\n  - id: S1\n    minutes: 5\n")
    playbook = load_content_file(Playbook, path)
    assert playbook.steps[0] == Step(id="S1", minutes=5)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yaml", "name: triage\nsteps:\n  - id: S1\n   minutes: [5\n")
    with pytest.raises(ContentError) as excinfo:
        load_content_file(Playbook, path)
    error = excinfo.value
    assert error.path == path
    assert error.line is not None
    assert str(error).startswith(f"{path}:{error.line}: YAML syntax error")


def test_unknown_field_names_file_line_item_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pb.yaml",
        "name: triage\nsteps:\n  - id: S1\n    minutes: 5\n  - id: S2\n    minutse: 3\n",
    )
    with pytest.raises(ContentError) as excinfo:
        load_content_file(Playbook, path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}:6: item 'S2': ")
    assert "steps.1.minutse: unknown field" in message


def test_invalid_value_points_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pb.yaml", "name: triage\nsteps:\n  - id: S1\n    minutes: -4\n")
    with pytest.raises(ContentError) as excinfo:
        load_content_file(Playbook, path)
    assert excinfo.value.line == 4
    assert excinfo.value.item == "S1"
    assert "greater than or equal to 0" in str(excinfo.value)


def test_many_errors_are_summarised(tmp_path: Path) -> None:
    steps = "".join(f"  - id: S{i}\n    minutes: x\n" for i in range(8))
    path = write(tmp_path / "pb.yaml", f"name: triage\nsteps:\n{steps}")
    with pytest.raises(ContentError, match=r"… and 3 more"):
        load_content_file(Playbook, path)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "pb.yaml", "name: a\nname: b\nsteps: []\n")
    with pytest.raises(ContentError, match=r"pb.yaml:2: duplicate key 'name'"):
        read_yaml(path)


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "evil.yaml", "name: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ContentError, match=r"evil\.yaml:1"):
        read_yaml(path)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="file not found"):
        read_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ContentError, match="not UTF-8"):
        read_yaml(bad)


def test_empty_document_is_none() -> None:
    assert parse_yaml("", Path("empty.yaml")).data is None


def test_organization_files_override_and_extend_packaged_content(tmp_path: Path) -> None:
    packaged = {p.name: p for p in content_files("demo", None)}
    assert "organization.yaml" in packaged
    write(tmp_path / "demo" / "organization.yaml", "key: mine\nname: Mine\n")
    write(tmp_path / "demo" / "extra.yaml", "x: 1\n")
    merged = {p.name: p for p in content_files("demo", tmp_path)}
    assert set(merged) == set(packaged) | {"extra.yaml"}
    assert merged["organization.yaml"] == tmp_path / "demo" / "organization.yaml"
    assert all(merged[name] == packaged[name] for name in packaged if name != "organization.yaml")
    assert content_file("demo/organization.yaml", tmp_path) == merged["organization.yaml"]
    assert content_file("demo/organization.yaml", None) == packaged["organization.yaml"]
    with pytest.raises(ContentError, match="no such content file"):
        content_file("demo/absent.yaml", tmp_path)


def test_unsafe_scalar_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "evil.yaml", "steps: []\nname: !!python/name:os.system\n")
    with pytest.raises(ContentError, match=r"evil.yaml:2: YAML error"):
        read_yaml(path)


def test_oversized_files_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(9 * 1024 * 1024)
    with pytest.raises(ContentError, match="content files are limited"):
        read_yaml(path)
