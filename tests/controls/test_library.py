from __future__ import annotations

from pathlib import Path

import pytest

from garrison.catalog import FrameworkKey, get_catalog
from garrison.controls import (
    ASSET_TYPES,
    BASELINE_CATEGORIES,
    ControlType,
    ImplementerKind,
    load_library,
)
from garrison.controls.library import ControlLibrary
from garrison.core.content import packaged_content_root
from garrison.core.errors import ContentError, NotFoundError
from garrison.monitoring.detectors import load_builtin_detectors
from garrison.monitoring.detectors.base import detector_registry
from garrison.monitoring.rules.loader import load_rule_pack

LIBRARY = load_library()
GOOD = """\
family: custom
description: An organization's own controls.
controls:
  - id: CTRL-ORG-ONE
    name: Org control
    type: preventive
    category: guardrails
    applies_to: [ai_agent]
    summary: Something useful.
    implementation:
      deploy: Deploy it.
      verify: Check it.
      evidence: [a record]
    effectiveness:
      weight: 0.2
      rationale: Because.
    mappings:
      owasp_llm: [LLM01]
      atlas_mitigations: [AML.M0015]
"""


def _types_per_item(
    library: ControlLibrary, framework: FrameworkKey
) -> dict[str, set[ControlType]]:
    """Computed from the controls themselves, not from the library's own coverage helper."""
    catalog = get_catalog()
    found: dict[str, set[ControlType]] = {
        item.id: set() for item in catalog.items(framework, "risk")
    }
    for control in library:
        for item in control.mappings.owasp():
            if item in found:
                found[item].add(control.type)
    return found


@pytest.mark.parametrize("framework", [FrameworkKey.OWASP_LLM, FrameworkKey.OWASP_AGENTIC])
def test_every_owasp_item_has_a_preventive_and_a_detective_control(
    framework: FrameworkKey,
) -> None:
    per_item = _types_per_item(LIBRARY, framework)
    assert len(per_item) == 10
    missing = {
        item: sorted(t.value for t in {ControlType.PREVENTIVE, ControlType.DETECTIVE} - types)
        for item, types in per_item.items()
        if not {ControlType.PREVENTIVE, ControlType.DETECTIVE} <= types
    }
    assert missing == {}
    assert all(c.complete for c in LIBRARY.framework_coverage(framework))


def test_library_size_types_and_baseline_categories() -> None:
    assert len(LIBRARY) >= 40
    assert {c.type for c in LIBRARY} == set(ControlType)
    assert {c.category for c in LIBRARY} >= set(BASELINE_CATEGORIES)
    assert all(0 < c.effectiveness.weight < 1 for c in LIBRARY)
    assert all(set(c.applies_to) <= set(ASSET_TYPES) for c in LIBRARY)
    assert all(c.family for c in LIBRARY)


def test_detectors_and_rules_are_detective_controls_that_link_back() -> None:
    # Both ways: the library's rule IDs are exactly the default rule pack's.
    library_rules = {
        i.id for c in LIBRARY for i in c.implemented_by if i.kind is ImplementerKind.RULE
    }
    rules = set(load_rule_pack().rule_ids())
    assert library_rules == rules
    assert "RULE-RAPID-GUARDRAIL-BLOCKS" in rules
    for rule in rules:
        (control,) = LIBRARY.implemented_by(ImplementerKind.RULE, rule)
        assert control.type is ControlType.DETECTIVE
    detectors = {
        i.id for c in LIBRARY for i in c.implemented_by if i.kind is ImplementerKind.DETECTOR
    }
    # Both ways: every detector the library names exists, and every built-in detector is a
    # detective control of the library.
    load_builtin_detectors()
    assert detectors == set(detector_registry.names())
    for detector in detectors:
        assert all(
            c.type is ControlType.DETECTIVE
            for c in LIBRARY.implemented_by(ImplementerKind.DETECTOR, detector)
        )


def test_lookups_and_filters() -> None:
    assert LIBRARY.get("ctrl-input-filter").id == "CTRL-INPUT-FILTER"
    assert "CTRL-RATE-LIMIT" in LIBRARY
    with pytest.raises(NotFoundError, match="CTRL-INPUT-FILTR") as excinfo:
        LIBRARY.get("CTRL-INPUT-FILTR")
    assert "CTRL-INPUT-FILTER" in str(excinfo.value.hint)
    detective_llm01 = LIBRARY.filter(type="detective", maps_to="LLM01")
    assert detective_llm01
    assert all(
        c.type is ControlType.DETECTIVE and "LLM01:2025" in c.mappings.owasp_llm
        for c in detective_llm01
    )
    # A control mapped to AML.T0051.000 counts for AML.T0051.
    assert "CTRL-INPUT-FILTER" in {c.id for c in LIBRARY.filter(maps_to="AML.T0051")}
    assert all(c.applies("training_dataset") for c in LIBRARY.filter(asset_type="training_dataset"))
    assert LIBRARY.crosswalk.sources_of("AML.M0004")


def test_packaged_sources_point_at_file_and_line() -> None:
    source = LIBRARY.sources["CTRL-INPUT-FILTER"]
    assert source.path == packaged_content_root() / "controls" / "input.yaml"
    lines = source.path.read_text(encoding="utf-8").splitlines()
    assert lines[source.line - 1].strip() == "- id: CTRL-INPUT-FILTER"


def _org_dir(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "controls"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_organization_adds_a_file(tmp_path: Path) -> None:
    library = load_library(_org_dir(tmp_path, "zz_org.yaml", GOOD))
    assert len(library) == len(LIBRARY) + 1
    assert library.get("CTRL-ORG-ONE").family == "custom"


def test_organization_overrides_a_packaged_file(tmp_path: Path) -> None:
    replaced = LIBRARY.filter(family="input")
    library = load_library(_org_dir(tmp_path, "input.yaml", GOOD))
    assert library.find("CTRL-INPUT-FILTER") is None
    assert library.get("CTRL-ORG-ONE")
    assert len(library) == len(LIBRARY) - len(replaced) + 1
    assert library.sources["CTRL-ORG-ONE"].path == tmp_path / "controls" / "input.yaml"


@pytest.mark.parametrize(
    ("change", "line", "fragment"),
    [
        (("owasp_llm: [LLM01]", "owasp_llm: [LLM11]"), 18, "unknown catalog ID 'LLM11'"),
        (
            ("atlas_mitigations: [AML.M0015]", "atlas_mitigations: [LLM01]"),
            19,
            "expected one of ATLAS",
        ),
        (
            ("atlas_mitigations: [AML.M0015]", "atlas_mitigations: [AML.T0051]"),
            19,
            "kind 'technique'",
        ),
        (("weight: 0.2", "weight: 1.5"), 15, "less than or equal to 1"),
        (("weight: 0.2", "weight: '0.2'"), 15, "weight must be a number"),
        (
            ("summary: Something useful.", "summary: Something useful.\n    owner: me"),
            10,
            "unknown field",
        ),
        (("applies_to: [ai_agent]", "applies_to: [toaster]"), 8, "unknown asset type 'toaster'"),
        (("type: preventive", "type: preventative"), 6, "type"),
    ],
)
def test_bad_content_fails_with_file_line_and_item(
    tmp_path: Path, change: tuple[str, str], line: int, fragment: str
) -> None:
    path = tmp_path / "controls" / "bad.yaml"
    _org_dir(tmp_path, "bad.yaml", GOOD.replace(*change))
    with pytest.raises(ContentError) as excinfo:
        load_library(tmp_path)
    error = excinfo.value
    assert (error.path, error.line, error.item) == (path, line, "CTRL-ORG-ONE")
    assert str(error).startswith(f"{path}:{line}: item 'CTRL-ORG-ONE': ")
    assert fragment in str(error)


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    duplicate = GOOD.replace("CTRL-ORG-ONE", "CTRL-RATE-LIMIT")
    path = tmp_path / "controls" / "zz_org.yaml"
    _org_dir(tmp_path, "zz_org.yaml", duplicate)
    with pytest.raises(ContentError) as excinfo:
        load_library(tmp_path)
    error = excinfo.value
    assert (error.path, error.line, error.item) == (path, 4, "CTRL-RATE-LIMIT")
    assert f"already defined at {LIBRARY.sources['CTRL-RATE-LIMIT']}" in str(error)


def test_duplicate_id_within_a_file(tmp_path: Path) -> None:
    body = GOOD.split("controls:\n", 1)[1]
    _org_dir(tmp_path, "zz_org.yaml", GOOD + body)
    with pytest.raises(ContentError, match="duplicate control ID") as excinfo:
        load_library(tmp_path)
    assert excinfo.value.line == 4 + body.count("\n")


def test_implemented_by_only_on_detective_controls(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    mappings:", "    implemented_by: [{kind: rule, id: RULE-X}]\n    mappings:"
    )
    _org_dir(tmp_path, "zz_org.yaml", text)
    with pytest.raises(ContentError, match="implemented_by is for detective controls"):
        load_library(tmp_path)
