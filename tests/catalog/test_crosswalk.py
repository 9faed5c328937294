from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from garrison.catalog import CatalogRef, CatalogRefs, Crosswalk, FrameworkKey, get_catalog, refs_of
from garrison.core.content import ContentModel, load_content_file
from garrison.core.errors import ContentError, UnknownCatalogIdError

catalog = get_catalog()


class Control(ContentModel):
    id: str
    maps_to: CatalogRefs = ()
    primary: CatalogRef | None = None
    atlas_mitigations: refs_of(FrameworkKey.ATLAS) = ()  # type: ignore[valid-type]


class ControlFile(ContentModel):
    controls: list[Control]


def test_refs_are_canonicalised_and_deduplicated() -> None:
    control = Control.model_validate(
        {
            "id": "C1",
            "maps_to": ["LLM01", "LLM01:2025", "gv-1.1", "article 15"],
            "primary": "llm02",
        },
        context={"catalog": catalog},
    )
    assert control.maps_to == ("LLM01:2025", "GOVERN 1.1", "Art. 15")
    assert control.primary == "LLM02:2025"


def test_framework_restricted_refs_refuse_other_frameworks() -> None:
    with pytest.raises(
        ValidationError, match="'LLM01:2025' is a OWASP-LLM item; expected one of ATLAS"
    ):
        Control.model_validate({"id": "C1", "atlas_mitigations": ["LLM01"]})
    assert Control.model_validate(
        {"id": "C1", "atlas_mitigations": ["AML.M0015"]}
    ).atlas_mitigations == ("AML.M0015",)


def test_content_file_with_unknown_id_names_file_item_and_id(tmp_path: Path) -> None:
    path = tmp_path / "controls.yaml"
    path.write_text(
        "controls:\n"
        "  - id: CTRL-INPUT-FILTER\n"
        "    maps_to: [LLM01:2025, AML.T0051]\n"
        "  - id: CTRL-OUTPUT-ENCODING\n"
        "    maps_to:\n"
        "      - LLM05:2025\n"
        "      - LLM11:2025\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as excinfo:
        load_content_file(ControlFile, path, context={"catalog": catalog})
    message = str(excinfo.value)
    assert message.startswith(f"{path}:7: item 'CTRL-OUTPUT-ENCODING': ")
    assert "unknown catalog ID 'LLM11:2025'" in message
    assert "did you mean" in message


def test_crosswalk_answers_both_ways_and_finds_gaps() -> None:
    crosswalk = Crosswalk(catalog)
    crosswalk.add("control", "CTRL-INPUT-FILTER", ["LLM01", "AML.T0051.000"])
    crosswalk.add("control", "CTRL-RATE-LIMIT", ["LLM10:2025"])
    assert [i.id for i in crosswalk.targets_of("CTRL-INPUT-FILTER")] == [
        "LLM01:2025",
        "AML.T0051.000",
    ]
    assert crosswalk.sources_of("LLM01:2025") == ["CTRL-INPUT-FILTER"]
    assert crosswalk.sources_of("AML.T0051") == []
    assert crosswalk.sources_of("AML.T0051", include_descendants=True) == ["CTRL-INPUT-FILTER"]
    coverage = crosswalk.coverage("OWASP-LLM")
    assert coverage["LLM01:2025"] == ["CTRL-INPUT-FILTER"]
    assert len(coverage) == 10
    gaps = crosswalk.gaps(FrameworkKey.OWASP_LLM)
    assert len(gaps) == 8
    assert "LLM01:2025" not in gaps
    with pytest.raises(UnknownCatalogIdError):
        crosswalk.add("control", "CTRL-X", ["LLM99"])
