"""Loading the control library and asking it questions.

The library is every ``*.yaml`` file of ``content/controls/``: the packaged defaults, each one
replaceable by an organization's file of the same name, plus the organization's own files. A
control ID must be unique across all of them; the error for a duplicate names both places.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from garrison.catalog import Catalog, Crosswalk, FrameworkKey, get_catalog
from garrison.controls.models import (
    Control,
    ControlCategory,
    ControlFile,
    ControlType,
    ImplementerKind,
)
from garrison.core.content import content_files, read_yaml, validate_document
from garrison.core.errors import ContentError, NotFoundError

CONTENT_FOLDER = "controls"
CROSSWALK_KIND = "control"
OWASP_FRAMEWORKS: tuple[FrameworkKey, ...] = (FrameworkKey.OWASP_LLM, FrameworkKey.OWASP_AGENTIC)


@dataclass(frozen=True)
class ControlSource:
    """Where a control was defined, for error messages and ``controls show``."""

    path: Path
    line: int | None

    def __str__(self) -> str:
        return str(self.path) if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class ItemCoverage:
    """Library controls mapped to one framework item, by type."""

    item_id: str
    name: str
    preventive: tuple[str, ...]
    detective: tuple[str, ...]
    corrective: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Has at least one preventive and one detective control."""
        return bool(self.preventive) and bool(self.detective)


class ControlLibrary:
    """The loaded controls, in file then document order, with lookups."""

    def __init__(
        self,
        controls: Iterable[Control],
        sources: dict[str, ControlSource] | None = None,
        files: Iterable[Path] = (),
        catalog: Catalog | None = None,
    ) -> None:
        self.controls: tuple[Control, ...] = tuple(controls)
        self.sources: dict[str, ControlSource] = dict(sources or {})
        self.files: tuple[Path, ...] = tuple(files)
        self.catalog: Catalog = catalog if catalog is not None else get_catalog()
        self._index: dict[str, Control] = {c.id: c for c in self.controls}

    def __len__(self) -> int:
        return len(self.controls)

    def __iter__(self) -> Iterator[Control]:
        return iter(self.controls)

    def __contains__(self, control_id: object) -> bool:
        return isinstance(control_id, str) and self.find(control_id) is not None

    def find(self, control_id: str) -> Control | None:
        return self._index.get(control_id.strip().upper())

    def get(self, control_id: str) -> Control:
        control = self.find(control_id)
        if control is None:
            raise NotFoundError(
                f"no control {control_id!r} in the library",
                hint=_suggest(control_id, self._index) or "list them with: garrison controls list",
            )
        return control

    def filter(
        self,
        *,
        type: ControlType | str | None = None,
        asset_type: str | None = None,
        maps_to: str | None = None,
        category: ControlCategory | str | None = None,
        family: str | None = None,
    ) -> list[Control]:
        """Controls matching every filter given; ``maps_to`` is any catalog ID or notation,
        and a control mapped to a sub-technique counts for its parent technique."""
        wanted_ids: set[str] | None = None
        if maps_to is not None:
            wanted_ids = set(self.crosswalk.sources_of(maps_to, include_descendants=True))
        chosen_type = None if type is None else ControlType(type)
        chosen_category = None if category is None else ControlCategory(category)
        return [
            c
            for c in self.controls
            if (chosen_type is None or c.type is chosen_type)
            and (asset_type is None or c.applies(asset_type))
            and (chosen_category is None or c.category is chosen_category)
            and (family is None or c.family == family)
            and (wanted_ids is None or c.id in wanted_ids)
        ]

    def applicable(self, asset_type: str) -> list[Control]:
        return [c for c in self.controls if c.applies(asset_type)]

    def implemented_by(self, kind: ImplementerKind | str, implementer_id: str) -> list[Control]:
        """The controls a Garrison detector or rule realises, so that pillar can link back."""
        chosen = ImplementerKind(kind)
        return [
            c
            for c in self.controls
            if any(i.kind is chosen and i.id == implementer_id for i in c.implemented_by)
        ]

    @cached_property
    def crosswalk(self) -> Crosswalk:
        """Every control's framework mappings, queryable per framework item."""
        crosswalk = Crosswalk(self.catalog)
        for control in self.controls:
            crosswalk.add(CROSSWALK_KIND, control.id, control.mappings.all_ids())
        return crosswalk

    def framework_coverage(self, framework: FrameworkKey | str) -> list[ItemCoverage]:
        """For each item of ``framework`` (its primary kind), the library's controls by type."""
        by_id = self._index
        result = []
        for item_id, control_ids in self.crosswalk.coverage(framework).items():
            controls = [by_id[c] for c in control_ids]
            result.append(
                ItemCoverage(
                    item_id=item_id,
                    name=self.catalog.get(item_id).name,
                    preventive=_ids_of(controls, ControlType.PREVENTIVE),
                    detective=_ids_of(controls, ControlType.DETECTIVE),
                    corrective=_ids_of(controls, ControlType.CORRECTIVE),
                )
            )
        return result


def _ids_of(controls: Iterable[Control], kind: ControlType) -> tuple[str, ...]:
    return tuple(c.id for c in controls if c.type is kind)


def _suggest(control_id: str, index: dict[str, Control]) -> str | None:
    from difflib import get_close_matches

    close = get_close_matches(control_id.strip().upper(), list(index), n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else None


def load_library(
    content_dir: Path | None = None, *, catalog: Catalog | None = None
) -> ControlLibrary:
    """Load and validate every control file; the first problem raises ``ContentError`` with
    file, line and control ID."""
    chosen = catalog if catalog is not None else get_catalog()
    paths = content_files(CONTENT_FOLDER, content_dir)
    if not paths:
        raise ContentError(
            "no control files found", path=CONTENT_FOLDER, hint="the packaged library is missing"
        )
    controls: list[Control] = []
    sources: dict[str, ControlSource] = {}
    for path in paths:
        document = read_yaml(path)
        parsed = validate_document(ControlFile, document, context={"catalog": chosen})
        for index, control in enumerate(parsed.controls):
            line = document.line_of(("controls", index))
            first = sources.get(control.id)
            if first is not None:
                raise ContentError(
                    f"duplicate control ID; it is already defined at {first}",
                    path=path,
                    line=line,
                    item=control.id,
                    hint="control IDs are unique across all control files; rename one, or "
                    "override the whole file by giving yours the same file name",
                )
            sources[control.id] = ControlSource(path, line)
            controls.append(
                control
                if control.family is not None
                else control.model_copy(update={"family": parsed.family})
            )
    return ControlLibrary(tuple(controls), sources, tuple(paths), chosen)


@lru_cache(maxsize=8)
def get_library(content_dir: Path | None = None) -> ControlLibrary:
    """The library for ``content_dir`` (None: the packaged defaults), loaded once per process."""
    return load_library(content_dir)
