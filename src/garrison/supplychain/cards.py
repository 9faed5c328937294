"""Model and dataset cards: the YAML front matter of a Hugging Face README.md."""

from __future__ import annotations

import os
from typing import Any

import yaml

MAX_CARD_BYTES = 256 * 1024
DATASET_KEYS = frozenset(
    {
        "dataset_info",
        "configs",
        "task_categories",
        "size_categories",
        "source_datasets",
        "annotations_creators",
        "pretty_name",
    }
)
MODEL_KEYS = frozenset({"pipeline_tag", "library_name", "base_model", "model-index", "model_name"})


def read_front_matter(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The card's front matter as a dict; None when there is none or it is not valid YAML."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CARD_BYTES)
    except OSError:
        return None
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def is_dataset_card(front: dict[str, Any]) -> bool:
    return bool(DATASET_KEYS & front.keys()) and not (MODEL_KEYS & front.keys())
