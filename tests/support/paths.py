"""Where the test suite finds the project's shared material: ``../shared`` beside the checkout,
as CI lays it out (``GARRISON_SHARED_DIR`` overrides it)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("GARRISON_SHARED_DIR", REPO_ROOT.parent / "shared"))
DATASETS_DIR = SHARED_DIR / "datasets"
