"""Rebuild this folder, or write the full sample estate (with its one malicious pickle) elsewhere.

    .venv/bin/python examples/estate/models/build.py            # the committed benign samples, here
    .venv/bin/python examples/estate/models/build.py /tmp/estate  # plus the malicious pickle

The malicious ``community-finetune/pytorch_model.bin`` is never committed: it is written from
raw pickle opcodes by ``garrison.supplychain.samples.build_sample_models`` when a test or the demo
needs it, and nothing ever loads it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from garrison.supplychain.samples import build_sample_models, write_benign_models

if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(build_sample_models(Path(sys.argv[1])))
    else:
        print(write_benign_models(Path(__file__).resolve().parent))
