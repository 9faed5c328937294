"""Content is data: YAML files validated by pydantic models, with file and line in every error.

Two things live here:

* where a content file comes from: the packaged defaults under ``garrison/content/``, overridden
  file by file by an organization's own folder (``GARRISON_CONTENT_DIR``), and
* how it is read: safe YAML only, duplicate keys refused, and validation errors mapped back to the
  line that caused them and the ``id`` of the item they belong to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from garrison.core.errors import ContentError

try:  # libyaml is an order of magnitude faster on the large framework files
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - every PyYAML wheel ships libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

ModelT = TypeVar("ModelT", bound=BaseModel)
PathKey = tuple[str | int, ...]

MAX_CONTENT_BYTES = 8 * 1024 * 1024
MAX_NESTING = 100
"""Content files are a few levels deep; a deeper document is a mistake or an attack on the stack."""
ALIAS_ALLOWANCE = 10_000
"""Nodes an alias may add beyond one per character of the text: without aliases a document has
fewer nodes than characters, so this bounds "billion laughs" expansion while leaving room for
anchors reused as defaults."""
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class ContentModel(BaseModel):
    """Base of every content model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class LocatedDocument:
    """A parsed YAML document and the line (1-based) where each value starts."""

    path: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, key: PathKey) -> int | None:
        """The line of ``key`` or, failing that, of its nearest enclosing value."""
        for end in range(len(key), -1, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return line
        return None

    def item_id_of(self, key: PathKey) -> str | None:
        """The ``id`` of the innermost mapping on ``key``'s path that has one."""
        node = self.data
        found: str | None = None
        for part in key:
            if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                found = node["id"]
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            found = node["id"]
        return found


def _scalar(loader: yaml.constructor.SafeConstructor, node: yaml.Node) -> Any:
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, path: Path) -> LocatedDocument:
    """Parse one YAML document safely, recording lines and refusing duplicate keys."""
    try:
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = None if mark is None else mark.line + 1
        raise ContentError(
            f"YAML syntax error: {exc.problem or exc}", path=path, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise ContentError(f"YAML error: {exc}", path=path) from None
    doc = LocatedDocument(path=path, data=None)
    if root is None:
        return doc
    constructor = yaml.SafeLoader("")  # only its scalar constructors are used
    budget = len(text) + ALIAS_ALLOWANCE
    built = 0

    def build(node: yaml.Node, key: PathKey) -> Any:
        nonlocal built
        line = node.start_mark.line + 1
        built += 1
        if built > budget:
            raise ContentError(
                f"aliases expand the document past {budget} nodes; write the values out or use "
                "fewer nested aliases",
                path=path,
                line=line,
            )
        if len(key) > MAX_NESTING:
            raise ContentError(
                f"values are nested more than {MAX_NESTING} levels deep", path=path, line=line
            )
        doc.lines[key] = line
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            # Composing never runs a tag, but an application tag here means the author expected
            # a Python object; refuse it rather than load it as plain data.
            raise ContentError(f"YAML tag {node.tag!r} is not allowed", path=path, line=line)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                name = scalar(key_node)
                if isinstance(name, list | dict):
                    raise ContentError(
                        "mapping keys must be plain values",
                        path=path,
                        line=key_node.start_mark.line + 1,
                    )
                if name in result:
                    raise ContentError(
                        f"duplicate key {name!r}", path=path, line=key_node.start_mark.line + 1
                    )
                result[name] = build(value_node, (*key, str(name)))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(child, (*key, index)) for index, child in enumerate(node.value)]
        return scalar(node)

    def scalar(node: yaml.Node) -> Any:
        try:
            return _scalar(constructor, node)
        except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. bad !!binary base64
            problem = getattr(exc, "problem", None) or str(exc)
            raise ContentError(
                f"YAML error: {problem}", path=path, line=node.start_mark.line + 1
            ) from None

    doc.data = build(root, ())
    return doc


def read_yaml(path: Path) -> LocatedDocument:
    """Read and parse a YAML file, refusing absurdly large ones before parsing them."""
    try:
        size = path.stat().st_size
        if size > MAX_CONTENT_BYTES:
            raise ContentError(
                f"file is {size} bytes; content files are limited to {MAX_CONTENT_BYTES}", path=path
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError("file not found", path=path) from None
    except UnicodeDecodeError as exc:
        raise ContentError(f"not UTF-8 text ({exc.reason})", path=path) from None
    except OSError as exc:
        raise ContentError(f"cannot read file: {exc.strerror}", path=path) from None
    return parse_yaml(text, path)


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (check its spelling against the documented fields)"
    return f"{loc}: {message}" if loc else message


def validate_document(
    model: type[ModelT], doc: LocatedDocument, *, context: Mapping[str, Any] | None = None
) -> ModelT:
    """Validate a parsed document, turning pydantic's errors into a ContentError with lines."""
    try:
        return model.model_validate(doc.data, context=dict(context or {}))
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        key: PathKey = tuple(first["loc"])
        line = doc.line_of(key)
        problems = [_describe(first)]
        for other in errors[1:5]:
            other_key: PathKey = tuple(other["loc"])
            other_line = doc.line_of(other_key)
            prefix = f"line {other_line}: " if other_line is not None else ""
            problems.append(prefix + _describe(other))
        if len(errors) > 5:
            problems.append(f"… and {len(errors) - 5} more")
        raise ContentError(
            "\n    ".join(problems), path=doc.path, line=line, item=doc.item_id_of(key)
        ) from None


def load_content_file(
    model: type[ModelT], path: Path, *, context: Mapping[str, Any] | None = None
) -> ModelT:
    """Read ``path`` and validate it as ``model``."""
    return validate_document(model, read_yaml(path), context=context)


# --- where content comes from -------------------------------------------------------------------


def packaged_content_root() -> Path:
    return Path(str(files("garrison") / "content"))


def content_files(folder: str, content_dir: Path | None, pattern: str = "*.yaml") -> list[Path]:
    """The files of ``folder``: packaged defaults, each replaced by an organization file of the
    same name, plus the organization's additional files. Sorted by name for stable loading."""
    chosen: dict[str, Path] = {}
    for root in _roots(content_dir):
        base = root / folder
        if base.is_dir():
            for candidate in base.glob(pattern):
                if candidate.is_file():
                    chosen[candidate.name] = candidate
    return [chosen[name] for name in sorted(chosen)]


def content_file(relative: str, content_dir: Path | None) -> Path:
    """The organization's copy of ``relative`` if it has one, else the packaged default."""
    for root in reversed(list(_roots(content_dir))):
        candidate = root / relative
        if candidate.is_file():
            return candidate
    raise ContentError(
        "no such content file in the packaged defaults or the content folder", path=relative
    )


def _roots(content_dir: Path | None) -> Iterator[Path]:
    yield packaged_content_root()
    if content_dir is not None:
        yield content_dir
