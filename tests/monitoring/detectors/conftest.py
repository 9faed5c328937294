from __future__ import annotations

import json

import pytest

from garrison.monitoring.detectors import load_builtin_detectors, load_config
from garrison.monitoring.detectors.pipeline import DetectorsConfig, DetectorSwitch
from tests.support.paths import DATASETS_DIR

DATASETS = DATASETS_DIR
OWN_DETECTORS = (
    "DET-INJECTION-PATTERNS",
    "DET-SECRETS",
    "DET-PII",
    "DET-PROMPT-LEAK",
    "DET-EXFILTRATION",
    "DET-UNSAFE-OUTPUT",
    "DET-OBFUSCATION",
)


def read_jsonl(name: str) -> list[dict[str, str]]:
    path = DATASETS / name
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the suite expects ../shared beside the checkout (or GARRISON_SHARED_DIR)"
        )
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def own_config() -> DetectorsConfig:
    """The packaged switchboard restricted to this package's detectors (no plugins)."""
    load_builtin_detectors()
    base = load_config()
    return base.model_copy(
        update={
            "detectors": [DetectorSwitch(id=i, enabled=True) for i in OWN_DETECTORS],
            "enable_unlisted": False,
        }
    )
