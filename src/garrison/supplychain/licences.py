"""A model's or dataset's licence, as an SPDX identifier where one exists.

Looked for in order of authority: the card's front matter (what the publisher declared on the
Hub), ``config.json``, then the text of a LICENSE file recognised by its opening words.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING", "license.txt")
MAX_LICENCE_BYTES = 8 * 1024

_HUB_TO_SPDX = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd": "BSD-3-Clause",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-2.0": "GPL-2.0-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only",
    "mpl-2.0": "MPL-2.0",
    "cc0-1.0": "CC0-1.0",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
    "cc-by-nc-nd-4.0": "CC-BY-NC-ND-4.0",
    "cc-by-3.0": "CC-BY-3.0",
    "cc-by-sa-3.0": "CC-BY-SA-3.0",
    "openrail": "LicenseRef-OpenRAIL",
    "openrail++": "LicenseRef-OpenRAIL-plus-plus",
    "creativeml-openrail-m": "CreativeML-OpenRAIL-M",
    "bigscience-openrail-m": "BigScience-OpenRAIL-M",
    "llama2": "LicenseRef-Llama-2",
    "llama3": "LicenseRef-Llama-3",
    "llama3.1": "LicenseRef-Llama-3.1",
    "llama3.2": "LicenseRef-Llama-3.2",
    "llama3.3": "LicenseRef-Llama-3.3",
    "gemma": "LicenseRef-Gemma",
    "unlicense": "Unlicense",
    "wtfpl": "WTFPL",
    "odc-by": "ODC-By-1.0",
}
_TEXT_MARKERS = (
    ("Apache License", "Version 2.0", "Apache-2.0"),
    ("MIT License", "", "MIT"),
    ("Permission is hereby granted, free of charge", "", "MIT"),
    ("GNU GENERAL PUBLIC LICENSE", "Version 3", "GPL-3.0-only"),
    ("GNU GENERAL PUBLIC LICENSE", "Version 2", "GPL-2.0-only"),
    ("GNU LESSER GENERAL PUBLIC LICENSE", "", "LGPL-3.0-only"),
    ("GNU AFFERO GENERAL PUBLIC LICENSE", "", "AGPL-3.0-only"),
    ("Mozilla Public License Version 2.0", "", "MPL-2.0"),
    ("Redistribution and use in source and binary forms", "Neither the name", "BSD-3-Clause"),
    ("Redistribution and use in source and binary forms", "", "BSD-2-Clause"),
    ("LLAMA 2 COMMUNITY LICENSE", "", "LicenseRef-Llama-2"),
    ("LLAMA 3", "COMMUNITY LICENSE", "LicenseRef-Llama-3"),
    ("Creative Commons Attribution 4.0", "", "CC-BY-4.0"),
)


@dataclass(frozen=True)
class Licence:
    spdx: str
    """An SPDX identifier, a ``LicenseRef-…``, the publisher's own word, or ``unknown``."""
    source: str
    """Where it was read: ``README.md front matter``, ``config.json``, ``LICENSE``, or empty."""


def normalise(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    text = str(value or "").strip()
    if not text:
        return UNKNOWN
    return _HUB_TO_SPDX.get(text.lower(), text[:100])


def from_text(text: str) -> str | None:
    for first, second, spdx in _TEXT_MARKERS:
        if first.lower() in text.lower() and second.lower() in text.lower():
            return spdx
    return None


def detect_licence(
    folder: str | os.PathLike[str],
    *,
    front_matter: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    names: frozenset[str] | None = None,
) -> Licence:
    """The licence of the model or dataset in ``folder``. ``names`` (the folder's entries, when
    the caller already listed it) saves a directory read."""
    if front_matter and front_matter.get("license"):
        spdx = normalise(front_matter["license"])
        if spdx == "other" and front_matter.get("license_name"):
            spdx = f"LicenseRef-{str(front_matter['license_name'])[:80]}"
        return Licence(spdx, "README.md front matter")
    if config and isinstance(config.get("license"), str) and config["license"].strip():
        return Licence(normalise(config["license"]), "config.json")
    root = os.fspath(folder)
    if names is None:
        try:
            names = frozenset(os.listdir(root))
        except OSError:
            names = frozenset()
    for name in LICENCE_FILES:
        if name in names:
            try:
                with open(os.path.join(root, name), "rb") as handle:
                    text = handle.read(MAX_LICENCE_BYTES).decode("utf-8", "replace")
            except OSError:
                continue
            return Licence(from_text(text) or "LicenseRef-custom", name)
    return Licence(UNKNOWN, "")
