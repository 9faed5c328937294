"""A small trained model for prompt injection and jailbreak that needs no download.

Logistic regression over hashed byte and word n-grams, trained from ``shared/datasets`` by
``scripts/train-injection-model`` (``training.py``), its weights shipped next to this file as an
``.npz`` array file with a JSON manifest. Importing this package registers the detectors.
"""

from garrison.monitoring.detectors.classifier.detector import (
    InjectionClassifier,
    JailbreakClassifier,
)
from garrison.monitoring.detectors.classifier.model import LinearModel, ModelError, shipped_model

__all__ = [
    "InjectionClassifier",
    "JailbreakClassifier",
    "LinearModel",
    "ModelError",
    "shipped_model",
]
