from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from garrison.core.content import packaged_content_root
from garrison.core.errors import ContentError
from garrison.risk import explain, load_risk_config
from garrison.risk.config import Dimension
from tests.risk.conftest import NOW, make_asset

DEFAULT = packaged_content_root() / "risk.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    (folder / "risk.yaml").write_text(text, encoding="utf-8")
    return folder


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _load_error(tmp_path: Path, text: str) -> ContentError:
    with pytest.raises(ContentError) as caught:
        load_risk_config(_write(tmp_path, text))
    return caught.value


def test_packaged_model_loads_and_weights_sum_to_one() -> None:
    config = load_risk_config()
    assert sum(config.dimensions.weights().values()) == pytest.approx(1.0, abs=1e-12)
    assert [level.name for level in config.levels] == ["low", "medium", "high", "critical"]
    assert 0 < config.control_effectiveness.cap < 1
    assert re.fullmatch(r"[0-9a-f]{64}", config.digest())


def test_weights_not_summing_to_one_name_the_sum_and_line(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("weight: 0.25", "weight: 0.30", 1)
    error = _load_error(tmp_path, text)
    assert "sum to 1.05" in str(error)
    assert "data_sensitivity 0.3" in str(error)
    assert error.path is not None and error.path.name == "risk.yaml"
    assert error.line == _line_of(text, "dimensions:") + 1  # the block's first line


def test_weights_within_tolerance_pass(tmp_path: Path) -> None:
    # 0.1 + 0.2 style float error is not a configuration error.
    text = DEFAULT.read_text().replace("weight: 0.25", "weight: 0.2500000000001", 1)
    load_risk_config(_write(tmp_path, text))


def test_level_gap_names_the_boundaries(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("    min: 25\n    max: 50", "    min: 30\n    max: 50")
    error = _load_error(tmp_path, text)
    assert "gap between 'low' (ends at 25) and 'medium' (starts at 30)" in str(error)
    assert error.line == _line_of(text, "levels:") + 1


def test_level_overlap_names_the_boundaries(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("    min: 50\n    max: 75", "    min: 45\n    max: 75")
    error = _load_error(tmp_path, text)
    assert "overlap between 'medium' (ends at 50) and 'high' (starts at 45)" in str(error)


def test_levels_must_start_at_zero_and_end_at_100(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("    min: 75\n    max: 100", "    min: 75\n    max: 99")
    assert "scores 99 to 100 have no level" in str(_load_error(tmp_path, text))


def test_unknown_enum_value_lists_the_allowed_ones(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace(
        "      regulated: 95\n", "      regulated: 95\n      secret: 99\n", 1
    )
    error = _load_error(tmp_path, text)
    assert "'public', 'internal', 'confidential', 'restricted' or 'regulated'" in str(error)
    assert error.line == _line_of(text, "secret: 99")


def test_unknown_dimension_in_the_effectiveness_table(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace(
        "rate_limiting: {max: 0.3, dimensions: [deployment_exposure]}",
        "rate_limiting: {max: 0.3, dimensions: [exposure]}",
    )
    error = _load_error(tmp_path, text)
    assert "data_sensitivity" in str(error) and "'supply_chain'" in str(error)
    assert error.line == _line_of(text, "dimensions: [exposure]")


def test_missing_enum_member_is_named(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("      mcp_server: 75\n", "")
    error = _load_error(tmp_path, text)
    assert "no value for mcp_server" in str(error)
    assert error.line == _line_of(text, "asset_types:") + 1


def test_missing_matrix_cell_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    del data["dimensions"]["deployment_exposure"]["scores"]["vpc"]["research"]
    error = _load_error(tmp_path, yaml.safe_dump(data))
    assert "vpc: no value for research" in str(error)


def test_missing_control_category_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    del data["control_effectiveness"]["categories"]["sandboxing"]
    assert "no value for sandboxing" in str(_load_error(tmp_path, yaml.safe_dump(data)))


def test_cap_must_stay_below_one(tmp_path: Path) -> None:
    text = DEFAULT.read_text().replace("cap: 0.85", "cap: 1.0")
    error = _load_error(tmp_path, text)
    assert "cap" in str(error) and "less than 1" in str(error)


def test_override_changes_the_score_without_code(tmp_path: Path) -> None:
    asset = make_asset(data_classification="regulated")
    before = explain(asset, [], load_risk_config(), as_of=NOW.date(), asset_id="a")
    text = (
        DEFAULT.read_text()
        .replace("weight: 0.25", "weight: 0.35", 1)
        .replace("    weight: 0.10\n    base: 50", "    weight: 0.0\n    base: 50")
    )
    changed = load_risk_config(_write(tmp_path, text))
    after = explain(asset, [], changed, as_of=NOW.date(), asset_id="a")
    assert after.inherent != before.inherent
    factor = {f.dimension: f for f in after.factors}
    assert factor[Dimension.DATA_SENSITIVITY].weight == 0.35
    assert after.config_digest != before.config_digest
