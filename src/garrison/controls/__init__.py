"""The technical control library and each asset's control state.

Content (``content/controls/*.yaml``) says what a control is; the store says, per asset, whether
it is planned, implemented, operational or failed, with who said so and the evidence. Coverage
joins the two: which OWASP LLM and Agentic items an asset, a team or the estate leaves without an
operational preventive or detective control.
"""

from garrison.controls.library import (
    ControlLibrary,
    ControlSource,
    ItemCoverage,
    get_library,
    load_library,
)
from garrison.controls.models import (
    ASSET_TYPES,
    BASELINE_CATEGORIES,
    Control,
    ControlCategory,
    ControlType,
    Implementer,
    ImplementerKind,
)

__all__ = [
    "ASSET_TYPES",
    "BASELINE_CATEGORIES",
    "Control",
    "ControlCategory",
    "ControlLibrary",
    "ControlSource",
    "ControlType",
    "Implementer",
    "ImplementerKind",
    "ItemCoverage",
    "get_library",
    "load_library",
]
