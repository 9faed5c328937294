"""The shipped weights: loading them safely and scoring a text with every head at once.

The weights are plain arrays in an ``.npz`` file, read with ``allow_pickle=False`` so that a
tampered file can hold numbers but never code, and their SHA-256 must match the manifest. The
manifest also records the feature configuration; weights trained with a different hash are refused
instead of silently scoring garbage.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from garrison.core.errors import GarrisonError
from garrison.monitoring.detectors.classifier.features import (
    FEATURE_CONFIG,
    WINDOW_BYTES,
    ngram_buckets,
    ngram_buckets_at,
    prepare,
    windows,
)

WEIGHTS_NAME = "model.npz"
MANIFEST_NAME = "manifest.json"


class ModelError(GarrisonError):
    """The classifier's weights are missing, tampered with, or from another feature version."""


def default_model_dir() -> Path:
    return Path(__file__).parent / "data"


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    folder = default_model_dir() if directory is None else directory
    manifest: dict[str, Any] = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    return manifest


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Head:
    name: str
    index: int
    threshold: float
    """Default decision threshold: the lowest score keeping <= 1 % FPR on the dev negatives."""
    window: int | None = None
    """Score the highest ``window``-byte slice (half-window stride) instead of the whole text."""


def max_window_logit(
    data: bytes, weights: npt.NDArray[np.float32], bias: float, bits: int, window: int
) -> float:
    """The highest logit over ``window``-byte slices of ``data`` at half-window stride.

    A sentence planted in a long document is diluted when the document is scored whole; scored
    per slice it stands out. All slices come from one pass: every n-gram's weight is added at its
    start offset, and each slice is a difference of two prefix sums.
    """
    buckets, offsets = ngram_buckets_at(data, bits)
    if len(buckets) == 0:
        return bias
    n = len(data)
    sums = np.zeros(n + 1)
    counts = np.zeros(n + 1)
    np.cumsum(np.bincount(offsets, weights=weights.take(buckets), minlength=n), out=sums[1:])
    np.cumsum(np.bincount(offsets, minlength=n), out=counts[1:])
    step = max(1, window // 2)
    starts = np.arange(0, max(1, n - step), step)
    ends = np.minimum(starts + window, n)
    total = sums[ends] - sums[starts]
    occurrences = counts[ends] - counts[starts]
    keep = occurrences > 0
    if not keep.any():
        return bias
    return float((total[keep] / np.sqrt(occurrences[keep])).max()) + bias


class LinearModel:
    """Hashed n-gram logistic heads; ``scores`` gives one calibrated probability per head."""

    def __init__(
        self,
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        manifest: dict[str, Any],
    ) -> None:
        self.weights = weights
        self.bias = bias
        self.manifest = manifest
        self.bits = int(manifest["bits"])
        self.version = str(manifest["version"])
        self.heads = {
            h["name"]: Head(
                h["name"],
                int(h["index"]),
                float(h["threshold"]),
                None if h.get("window") is None else int(h["window"]),
            )
            for h in manifest["heads"]
        }
        self._last: tuple[str, npt.NDArray[np.float64]] | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> LinearModel:
        folder = default_model_dir() if directory is None else directory
        manifest_path = folder / MANIFEST_NAME
        weights_path = folder / WEIGHTS_NAME
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot read the classifier manifest {manifest_path}: {exc}",
                hint="re-run scripts/train-injection-model or reinstall garrison",
            ) from None
        if manifest.get("features") != FEATURE_CONFIG:
            raise ModelError(
                f"{manifest_path}: weights were trained with another feature configuration",
                hint="re-run scripts/train-injection-model to retrain with this version",
            )
        try:
            digest = file_digest(weights_path)
        except OSError as exc:
            raise ModelError(f"cannot read the classifier weights {weights_path}: {exc}") from None
        if digest != manifest.get("weights_sha256"):
            raise ModelError(
                f"{weights_path}: SHA-256 {digest} does not match the manifest",
                hint="the weights file was modified or belongs to another manifest",
            )
        with np.load(weights_path, allow_pickle=False) as arrays:
            weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
            bias = np.asarray(arrays["bias"], dtype=np.float32)
        expected = (len(manifest["heads"]), 1 << int(manifest["bits"]))
        if weights.shape != expected or bias.shape != (expected[0],):
            raise ModelError(
                f"{weights_path}: weights of shape {weights.shape}, the manifest says {expected}"
            )
        return cls(weights, bias, manifest)

    def logits(self, text: str) -> npt.NDArray[np.float64]:
        """One logit per head; for long texts, the highest of each head over the windows."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        data = prepare(text)
        parts = windows(data, WINDOW_BYTES) if len(data) > WINDOW_BYTES else [data]
        best: npt.NDArray[np.float64] | None = None
        for part in parts:
            buckets = ngram_buckets(part, self.bits)
            if len(buckets) == 0:
                z = self.bias.astype(np.float64)
            else:
                summed = self.weights.take(buckets, axis=1).sum(axis=1, dtype=np.float64)
                z = summed / math.sqrt(len(buckets)) + self.bias
            best = z if best is None else np.maximum(best, z)
        assert best is not None
        self._last = (text, best)
        return best

    def scores(self, text: str) -> dict[str, float]:
        z = self.logits(text)
        p = 1.0 / (1.0 + np.exp(-z))
        return {name: float(p[head.index]) for name, head in self.heads.items()}

    def score(self, text: str, head: str) -> float:
        chosen = self.heads[head]
        if chosen.window is None:
            z = float(self.logits(text)[chosen.index])
        else:
            z = max_window_logit(
                prepare(text),
                self.weights[chosen.index],
                float(self.bias[chosen.index]),
                self.bits,
                chosen.window,
            )
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@cache
def shipped_model() -> LinearModel:
    """The model in the package, loaded once per process."""
    return LinearModel.load()
