"""Declared assets from files: YAML, JSON or CSV, validated row by row.

``read_rows(path, fmt=None) -> list[ParsedRow]`` parses a file into rows that each carry the line
they start on and either a valid ``AssetSpec`` or the reason it is not one. A file that cannot be
read or is not the format it claims raises ``ImportFormatError`` (exit code 2); a bad row is only
rejected. ``import_assets(session, rows, …)`` registers the valid rows in batches.

Formats:

* YAML or JSON: a list of assets, or a mapping ``{org: KEY, assets: [...]}`` whose ``org`` is the
  default for its entries, or one asset alone. Each asset is a mapping of ``AssetSpec`` fields.
* CSV: a header row of ``AssetSpec`` field names. List fields (``regulatory_scope``, ``tags``,
  ``depends_on``) are separated by ``;``; ``api_key.location`` / ``api_key.reference`` /
  ``api_key.fingerprint`` columns build the key reference; ``tools`` and ``vector_namespaces``
  cells hold JSON. An empty cell leaves the field unset.

Every field written in a row is ``declared`` by the importing source, with the file and line as
its evidence.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from garrison.core.content import LocatedDocument, parse_yaml
from garrison.core.errors import ContentError, GarrisonError
from garrison.inventory.discovery.base import CallFailure
from garrison.inventory.models import AssetSpec, Confidence, Evidence
from garrison.inventory.registry import (
    DiscoveryRun,
    RegisterOutcome,
    finish_run,
    register_many,
    start_run,
    validation_message,
)

Format = Literal["yaml", "json", "csv"]
MAX_IMPORT_BYTES = 256 * 1024 * 1024
BATCH = 1000
DECLARED_SOURCE = "declared"
_LIST_COLUMNS = frozenset({"regulatory_scope", "tags", "depends_on"})
_JSON_COLUMNS = frozenset({"tools", "vector_namespaces"})
_KEY_COLUMNS = frozenset({"api_key.location", "api_key.reference", "api_key.fingerprint"})


class ImportFormatError(GarrisonError):
    """The file cannot be read, or is not a YAML, JSON or CSV asset list."""


@dataclass(frozen=True)
class ParsedRow:
    line: int | None
    """The line the row starts on (1-based), when the format tells."""
    index: int
    spec: AssetSpec | None = None
    error: str | None = None


@dataclass
class ImportReport:
    path: str
    accepted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[ParsedRow] = field(default_factory=list)
    run: DiscoveryRun | None = None


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if suffix == ".csv":
        return "csv"
    raise ImportFormatError(
        f"{path}: cannot tell the format from the extension {suffix or '(none)'}",
        hint="use .yaml, .json or .csv, or pass --format",
    )


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportFormatError(f"{path}: {size} bytes is over the {MAX_IMPORT_BYTES} limit")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ImportFormatError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read ({exc.strerror})") from None


def read_rows(path: Path, fmt: Format | None = None, *, org: str | None = None) -> list[ParsedRow]:
    """Parse ``path`` into validated rows; ``org`` is the default organization of its entries."""
    chosen = fmt or detect_format(path)
    text = _read_text(path)
    if chosen == "csv":
        return _csv_rows(text, path, org)
    if chosen == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        try:
            located = parse_yaml(text, path)  # JSON is YAML: this only adds line numbers
        except ContentError:
            located = LocatedDocument(path=path, data=data)
        located.data = data
        return _document_rows(located, path, org)
    try:
        located = parse_yaml(text, path)
    except ContentError as exc:
        raise ImportFormatError(
            exc.message, hint="fix the YAML syntax; no asset was imported"
        ) from None
    return _document_rows(located, path, org)


def _entries(
    doc: LocatedDocument, path: Path, org: str | None
) -> tuple[list[Any], tuple[str, ...], str | None]:
    data = doc.data
    if isinstance(data, list):
        return data, (), org
    if isinstance(data, Mapping) and isinstance(data.get("assets"), list):
        unknown = sorted(set(data) - {"org", "assets"})
        if unknown:
            raise ImportFormatError(
                f"{path}: unknown top-level key(s) {', '.join(map(str, unknown))}",
                hint="the file holds `org` (optional) and `assets` (a list)",
            )
        default_org = data.get("org", org)
        if default_org is not None and not isinstance(default_org, str):
            raise ImportFormatError(f"{path}: `org` must be an organization key")
        return data["assets"], ("assets",), org or default_org
    if isinstance(data, Mapping) and "assets" not in data and "name" in data:
        return [data], (), org  # one asset on its own (``garrison assets add --file``)
    raise ImportFormatError(
        f"{path}: expected a list of assets, or a mapping with an `assets` list",
        hint="see `garrison assets import --help` for an example",
    )


def _document_rows(doc: LocatedDocument, path: Path, org: str | None) -> list[ParsedRow]:
    entries, prefix, default_org = _entries(doc, path, org)
    rows: list[ParsedRow] = []
    for index, entry in enumerate(entries):
        key: tuple[str | int, ...] = (*prefix, index)
        line = doc.line_of(key)
        if not isinstance(entry, Mapping):
            rows.append(ParsedRow(line, index, error="an asset must be a mapping of fields"))
            continue
        values = dict(entry)
        if default_org is not None:
            values.setdefault("org", default_org)
        try:
            rows.append(ParsedRow(line, index, spec=AssetSpec.model_validate(values)))
        except ValidationError as exc:
            first = tuple(exc.errors()[0]["loc"])
            rows.append(
                ParsedRow(doc.line_of((*key, *first)) or line, index, error=validation_message(exc))
            )
    return rows


def _csv_rows(text: str, path: Path, org: str | None) -> list[ParsedRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames
    if not header:
        raise ImportFormatError(f"{path}: empty CSV file (no header row)")
    allowed = (set(AssetSpec.model_fields) - {"api_key"}) | _KEY_COLUMNS
    unknown = sorted(h for h in header if h not in allowed)
    if unknown:
        raise ImportFormatError(
            f"{path}:1: unknown column(s) {', '.join(unknown)}",
            hint="columns are asset fields: " + ", ".join(sorted(allowed)),
        )
    if "name" not in header or "asset_type" not in header:
        raise ImportFormatError(f"{path}:1: the header needs at least `name` and `asset_type`")
    rows: list[ParsedRow] = []
    line = 1
    try:
        for index, record in enumerate(reader):
            start = line + 1
            line = reader.line_num
            if None in record:
                rows.append(ParsedRow(start, index, error="more cells than header columns"))
                continue
            try:
                values = _csv_values(record, org)
                rows.append(ParsedRow(start, index, spec=AssetSpec.model_validate(values)))
            except ValidationError as exc:
                rows.append(ParsedRow(start, index, error=validation_message(exc)))
            except ValueError as exc:
                rows.append(ParsedRow(start, index, error=str(exc)))
    except csv.Error as exc:
        raise ImportFormatError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    return rows


def _csv_values(record: Mapping[str, str | None], org: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    key: dict[str, str] = {}
    for column, raw in record.items():
        cell = (raw or "").strip()
        if not cell:
            continue
        if column in _KEY_COLUMNS:
            key[column.removeprefix("api_key.")] = cell
        elif column in _LIST_COLUMNS:
            values[column] = [part.strip() for part in cell.split(";") if part.strip()]
        elif column in _JSON_COLUMNS:
            try:
                values[column] = json.loads(cell)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{column}: not JSON ({exc.msg})") from None
        else:
            values[column] = cell
    if key:
        values["api_key"] = key
    if org is not None:
        values.setdefault("org", org)
    return values


def import_assets(
    session: Session,
    rows: Sequence[ParsedRow],
    *,
    path: str,
    source: str = DECLARED_SOURCE,
    complete: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Register the valid rows as one run of ``source`` scoped to the file name.

    With ``complete``, the file is the whole truth for that scope: assets it declared before and
    no longer lists become stale. An import with rejected rows is never treated as complete.
    """
    report = ImportReport(path=path)
    report.rejected = [row for row in rows if row.spec is None]
    valid = [row for row in rows if row.spec is not None]
    orgs = {row.spec.org for row in valid if row.spec is not None}
    if len(orgs) > 1 and complete:
        raise GarrisonError(
            "a complete import must hold one organization's assets",
            hint="split the file by organization, or import without --complete",
        )
    scope = Path(path).name
    run = start_run(session, source, scope=scope, org=next(iter(orgs))) if len(orgs) == 1 else None
    outcomes: list[RegisterOutcome] = []
    for start in range(0, len(valid), BATCH):
        batch = valid[start : start + BATCH]
        items = []
        for row in batch:
            assert row.spec is not None
            where = f"{scope}:{row.line}" if row.line is not None else f"{scope}#{row.index + 1}"
            items.append((row.spec, [Evidence(location=where, confidence=Confidence.DECLARED)]))
        outcomes.extend(register_many(session, items, source=source, run=run))
        if progress is not None:
            progress(len(batch))
    report.accepted = len(valid)
    report.created = sum(o.action == "created" for o in outcomes)
    report.updated = sum(o.action == "updated" for o in outcomes)
    report.unchanged = sum(o.action == "unchanged" for o in outcomes)
    if run is not None:
        failures = [
            CallFailure(
                operation="import row", target=f"{scope}:{row.line}", message=row.error or ""
            )
            for row in report.rejected
        ]
        report.run = finish_run(
            session,
            run,
            complete=complete and not report.rejected,
            errors=failures,
            counts={
                "seen": len({o.asset_id for o in outcomes}),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
            },
        )
    return report
