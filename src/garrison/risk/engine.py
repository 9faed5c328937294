"""The risk pillar's store edge: assess assets, keep every assessment with its inputs, answer
history and top-N, and recompute a stored score from what was stored.

Other pillars call these functions; nobody reads the risk tables directly. The inventory and the
control state are read through their own public functions.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Table, Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from garrison.controls import ControlLibrary, get_library
from garrison.controls.state import (
    Attestation,
    ControlState,
    control_states,
    current_state_values,
)
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.inventory import AIAsset, asset_documents, resolve_asset
from garrison.risk.config import RiskConfig, load_risk_config
from garrison.risk.models import (
    Assessment,
    AssessmentInputs,
    AssessmentSummary,
    ControlInput,
    ProviderOutput,
    RiskExplanation,
)
from garrison.risk.providers import (
    ProviderContext,
    RiskFactorProvider,
    collect,
    risk_factor_providers,
)
from garrison.risk.scoring import (
    ControlPart,
    PlainControl,
    control_part,
    explain,
    explanation_document,
    plain_providers,
    scoring_facts,
)
from garrison.risk.tables import ScoringTables
from garrison.store.models.risk import RiskAssessmentRow, RiskConfigRow

Progress = Callable[[int], None]
"""Called with the number of assets just assessed (drives a progress bar)."""


_INT64 = (-(2**63), 2**64 - 1)


def _json_safe(value: Any) -> Any:
    """``value`` with integers orjson cannot write (beyond 64 bits) as strings."""
    if isinstance(value, bool) or not isinstance(value, int | dict | list | tuple):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return [_json_safe(v) for v in value]


def _dumps(value: Any) -> bytes:
    """orjson, except that an asset attribute holding a huge integer (any JSON number is allowed
    in an imported asset) is stored as its digits instead of failing the whole assessment."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return orjson.dumps(_json_safe(value))


@lru_cache(maxsize=64)
def _applicable(library: ControlLibrary, asset_type: str) -> tuple[ControlInput, ...]:
    # Built once per library and type: a bulk run would otherwise rebuild the same objects for
    # every asset.
    return tuple(
        ControlInput(
            id=control.id,
            name=control.name,
            type=control.type,
            category=control.category,
            weight=control.effectiveness.weight,
            owasp=control.mappings.owasp(),
        )
        for control in sorted(library.applicable(asset_type), key=lambda c: c.id)
    )


@lru_cache(maxsize=64)
def _variants(
    library: ControlLibrary, asset_type: str
) -> tuple[dict[ControlState, ControlInput], ...]:
    # Every control of the type in every state, built once: inputs are frozen, so assets with the
    # same control in the same state share one object.
    return tuple(
        {state: control.model_copy(update={"state": state.value}) for state in ControlState}
        for control in _applicable(library, asset_type)
    )


def controls_for(
    asset: AIAsset, library: ControlLibrary, states: Mapping[str, Attestation]
) -> list[ControlInput]:
    """The library controls applicable to the asset's type (sorted by ID), each with its current
    state. A state attested for a control that does not apply to the type is ignored: it cannot
    reduce risk."""
    return _with_states(asset, library, {cid: a.state for cid, a in states.items()})


def _with_states(
    asset: AIAsset, library: ControlLibrary, states: Mapping[str, ControlState]
) -> list[ControlInput]:
    applicable = _applicable(library, asset.asset_type.value)
    if not states:
        return list(applicable)
    variants = _variants(library, asset.asset_type.value)
    found = []
    for control, by_state in zip(applicable, variants, strict=True):
        state = states.get(control.id)
        found.append(control if state is None else by_state[state])
    return found


def _ensure_config(session: Session, config: RiskConfig, now: datetime) -> str:
    digest = config.digest()
    if session.get(RiskConfigRow, digest) is None:
        try:
            # A savepoint: another process may store the same model at the same moment.
            with session.begin_nested():
                session.add(
                    RiskConfigRow(
                        digest=digest, body=config.model_dump(mode="json"), first_used_at=now
                    )
                )
        except IntegrityError:
            pass
    return digest


def stored_config(session: Session, digest: str) -> RiskConfig:
    row = session.get(RiskConfigRow, digest)
    if row is None:
        raise NotFoundError(f"no stored risk model with digest {digest}")
    return RiskConfig.model_validate(row.body)


_SHARED_KEYS = ("categories", "controls", "missing")
"""The parts of an explanation that follow from the controls in the inputs alone: a bulk run
stores them once per row in the inputs only, and reading an assessment derives them again."""


@lru_cache(maxsize=16)
def _stored_tables(digest: str, body: str) -> ScoringTables:
    # Cached by digest and body (one immutable risk model): reading 10,000 assessments must not
    # validate the model 10,000 times.
    return RiskConfig.model_validate(orjson.loads(body)).tables()


def _complete_explanation(
    session: Session, inputs: AssessmentInputs, stored: Mapping[str, Any]
) -> Mapping[str, Any]:
    if "controls" in stored:
        return stored
    row = session.get(RiskConfigRow, inputs.config_digest)
    if row is None:
        raise NotFoundError(f"no stored risk model with digest {inputs.config_digest}")
    return with_control_part(stored, inputs, _stored_tables(row.digest, _dumps(row.body).decode()))


def with_control_part(
    stored: Mapping[str, Any], inputs: AssessmentInputs, tables: ScoringTables
) -> dict[str, Any]:
    """A stored explanation completed with the parts that follow from its inputs' controls."""
    controls = sorted((PlainControl.of(c) for c in inputs.controls), key=lambda c: c.id)
    part = control_part(controls, tables)
    return {
        **stored,
        "categories": part.categories,
        "controls": part.controls,
        "missing": part.missing,
    }


def _to_assessment(session: Session, row: RiskAssessmentRow) -> Assessment:
    inputs = AssessmentInputs.model_validate(row.inputs)
    return Assessment(
        id=row.id,
        asset_id=row.asset_id,
        org=row.org,
        assessed_at=row.assessed_at,
        inputs=inputs,
        explanation=RiskExplanation.model_validate(
            _complete_explanation(session, inputs, row.explanation)
        ),
    )


def score_inputs(inputs: AssessmentInputs, config: RiskConfig) -> RiskExplanation:
    """Score from stored inputs alone (pure): what ``recompute`` and ``assess`` both run."""
    asset = AIAsset.model_validate(inputs.asset)
    return explain(
        asset,
        inputs.controls,
        config,
        as_of=inputs.as_of,
        asset_id=asset.id,
        providers=inputs.providers,
    )


def _assess_one(
    asset: AIAsset,
    *,
    states: Mapping[str, ControlState],
    config: RiskConfig,
    library: ControlLibrary,
    providers: Sequence[ProviderOutput],
    as_of: date,
    digest: str,
) -> tuple[AssessmentInputs, RiskExplanation]:
    inputs = AssessmentInputs(
        asset=asset.model_dump(mode="json"),
        controls=tuple(_with_states(asset, library, states)),
        providers=tuple(providers),
        as_of=as_of,
        config_digest=digest,
    )
    # The asset in memory equals its snapshot read back (tests recompute every stored case).
    result = explain(
        asset,
        inputs.controls,
        config,
        as_of=as_of,
        asset_id=asset.id,
        providers=inputs.providers,
    )
    return inputs, result


_INSERT_CHUNK = 1000
_PROGRESS_EVERY = 500


def _json_param(name: str, dialect: str) -> Any:
    # The JSON is serialised once by orjson and bound as text, instead of the JSON type's
    # ``json.dumps``; PostgreSQL casts it to JSONB.
    param = bindparam(name, type_=Text())
    return cast(param, JSONB()) if dialect == "postgresql" else param


def _store_rows(session: Session, values: list[dict[str, Any]]) -> list[int]:
    """Insert the assessment rows with executemany; their IDs, in the order of ``values``."""
    dialect = session.get_bind().dialect.name
    table = RiskAssessmentRow.__table__
    assert isinstance(table, Table)  # for the type checker: a declarative class maps one table
    statement = insert(table).values(
        org=bindparam("org"),
        asset_id=bindparam("asset_id"),
        assessed_at=bindparam("assessed_at"),
        inherent=bindparam("inherent"),
        residual=bindparam("residual"),
        level=bindparam("level"),
        config_digest=bindparam("config_digest"),
        inputs=_json_param("inputs", dialect),
        explanation=_json_param("explanation", dialect),
    )
    connection = session.connection()
    if dialect == "sqlite":
        # The driver's own executemany on plain tuples: without RETURNING (which SQLAlchemy
        # would turn into multi-row INSERT statements built in Python) and without per-row
        # parameter processing (each value is already what the column stores; the one
        # timestamp goes through its column type once). SQLite has one writer: from the first
        # insert on, this transaction holds the write lock and an INTEGER PRIMARY KEY takes the
        # next rowid, so the rows get consecutive IDs ending at the maximum read right after.
        compiled = statement.compile(dialect=connection.dialect)
        names = tuple(compiled.positiontup or ())
        process = table.c.assessed_at.type.bind_processor(connection.dialect)
        stored_at: dict[datetime, Any] = {}
        for v in values:
            at = v["assessed_at"]
            if at not in stored_at:
                stored_at[at] = at if process is None else process(at)
        connection.exec_driver_sql(
            str(compiled),
            [tuple(stored_at[v[n]] if n == "assessed_at" else v[n] for n in names) for v in values],
        )
        last = connection.execute(select(func.max(table.c.id))).scalar_one()
        return list(range(last - len(values) + 1, last + 1))
    # Elsewhere RETURNING, in multi-row batches; without ``sort_by_parameter_order`` (which would
    # cost one statement per row) each returned ID is matched to its row by asset ID: rows of one
    # asset in one run are identical.
    ids: dict[str, list[int]] = {}
    returning = statement.returning(table.c.id, table.c.asset_id)
    for start in range(0, len(values), _INSERT_CHUNK):
        rows = connection.execute(returning, values[start : start + _INSERT_CHUNK])
        for assessment_id, asset_id in rows:
            ids.setdefault(asset_id, []).append(assessment_id)
    for found in ids.values():
        found.reverse()
    return [ids[v["asset_id"]].pop() for v in values]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a bulk run.

    A run builds hundreds of thousands of small acyclic dicts and lists; the collector would
    rescan all of them every few hundred allocations (about a third of the run's time).
    Reference counting still frees everything; the collector resumes after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=64)
def _plain_applicable(library: ControlLibrary, asset_type: str) -> tuple[PlainControl, ...]:
    return tuple(PlainControl.of(control) for control in _applicable(library, asset_type))


@lru_cache(maxsize=64)
def _control_ids(library: ControlLibrary, asset_type: str) -> tuple[str, ...]:
    return tuple(control.id for control in _applicable(library, asset_type))


class _Shared(NamedTuple):
    """What assets of one type with their controls in the same states have in common."""

    part: ControlPart
    documents: list[dict[str, Any]]
    """The controls as stored in the inputs."""
    serialised: orjson.Fragment
    """The controls as stored (rows, see ``CONTROL_ROW``), serialised once for every asset that
    shares them."""


class _Scored(NamedTuple):
    asset: Mapping[str, Any]
    inputs: dict[str, Any]
    explanation: dict[str, Any]
    body: dict[str, Any]
    """The explanation as shared with assets of equal scoring facts (another ID and name)."""
    inputs_json: str
    explanation_json: str


def _fragments(document: Mapping[str, Any]) -> dict[str, Any]:
    # What is stored of an explanation: without the parts that follow from the inputs'
    # controls (``_complete_explanation`` derives them on reading: about half of the bytes), and
    # with the lists shared by many assets serialised once (orjson copies a Fragment's bytes).
    return {
        key: orjson.Fragment(_dumps(value)) if isinstance(value, list) else value
        for key, value in document.items()
        if key not in _SHARED_KEYS
    }


def _score_documents(
    session: Session | None,
    documents: Sequence[Mapping[str, Any]],
    assets: Sequence[AIAsset] | None,
    *,
    states: Mapping[str, Mapping[str, str]],
    config: RiskConfig,
    library: ControlLibrary,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None,
    now: datetime,
    digest: str,
    progress: Progress | None,
) -> list[_Scored]:
    """Score each asset document on plain values: the explanation and inputs as JSON-ready data
    and as JSON, without building pydantic objects per asset (``explain`` validates the same
    documents).

    Scoring is pure, so assets with the same scoring facts and the same control states share one
    explanation (only their ID and name differ), and assets of one type with the same control
    states share the control part of it."""
    tables = config.tables()
    chosen = risk_factor_providers.items() if providers is None else sorted(providers)
    context = ProviderContext(session=session, now=now)
    as_of = now.date()
    as_of_text = as_of.isoformat()
    shared: dict[tuple[str, tuple[str | None, ...]], _Shared] = {}
    bodies: dict[tuple[object, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
    dumps = _dumps
    scored: list[_Scored] = []
    pending = 0
    for index, document in enumerate(documents):
        asset_id = document["id"]
        asset_type = document["asset_type"]
        attested = states.get(asset_id)
        pattern = tuple(map(attested.get, _control_ids(library, asset_type))) if attested else ()
        key = (asset_type, pattern)
        common = shared.get(key)
        if common is None:
            applicable = _plain_applicable(library, asset_type)
            controls = (
                tuple(
                    c if s is None else c._replace(state=s)
                    for c, s in zip(applicable, pattern, strict=True)
                )
                if pattern
                else applicable
            )
            control_documents = [c.document() for c in controls]
            common = shared[key] = _Shared(
                control_part(controls, tables),
                control_documents,
                orjson.Fragment(dumps([c.row() for c in controls])),
            )
        outputs: tuple[ProviderOutput, ...] = ()
        if chosen:
            asset = AIAsset.model_validate(document) if assets is None else assets[index]
            outputs = collect(context, asset, chosen)
        body_key = (scoring_facts(document), key) if not outputs else None
        found = None if body_key is None else bodies.get(body_key)
        if found is None:
            body = explanation_document(
                document,
                common.part,
                tables,
                as_of=as_of,
                asset_id=asset_id,
                providers=plain_providers(outputs),
            )
            found = (body, _fragments(body))
            if body_key is not None:
                bodies[body_key] = found
        body, fragments = found
        name = document["name"]
        explanation = {**body, "asset_id": asset_id, "asset_name": name}
        provider_documents = [o.model_dump(mode="json") for o in outputs]
        inputs = {
            "asset": document,
            "controls": common.documents,
            "providers": provider_documents,
            "as_of": as_of_text,
            "config_digest": digest,
        }
        scored.append(
            _Scored(
                document,
                inputs,
                explanation,
                body,
                dumps({**inputs, "controls": common.serialised}).decode(),
                dumps({**fragments, "asset_id": asset_id, "asset_name": name}).decode(),
            )
        )
        pending += 1
        if progress is not None and pending == _PROGRESS_EVERY:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    return scored


def _run(
    session: Session,
    assets: Sequence[AIAsset] | None,
    *,
    config: RiskConfig | None,
    library: ControlLibrary | None,
    content_dir: Path | None,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None,
    now: datetime | None,
    progress: Progress | None,
) -> tuple[datetime, list[tuple[int, _Scored]]]:
    """Score and store; each stored row's ID with what was stored in it."""
    now = utcnow() if now is None else ensure_utc(now)
    config = config or load_risk_config(content_dir)
    library = library or get_library(content_dir)
    with _collector_paused():
        documents = (
            asset_documents(session)
            if assets is None
            else [a.model_dump(mode="json") for a in assets]
        )
        if not documents:
            return now, []
        digest = _ensure_config(session, config, now)
        scored = _score_documents(
            session,
            documents,
            None if assets is None else list(assets),
            # Every asset: every state, without a long IN list.
            states=current_state_values(
                session, None if assets is None else [d["id"] for d in documents]
            ),
            config=config,
            library=library,
            providers=providers,
            now=now,
            digest=digest,
            progress=progress,
        )
        values = [
            {
                "org": s.asset["org"],
                "asset_id": s.asset["id"],
                "assessed_at": now,
                "inherent": s.explanation["inherent"],
                "residual": s.explanation["residual"],
                "level": s.explanation["level"],
                "config_digest": digest,
                "inputs": s.inputs_json,
                "explanation": s.explanation_json,
            }
            for s in scored
        ]
        session.flush()  # the risk model row first: the assessments refer to it
        ids = _store_rows(session, values)
    return now, list(zip(ids, scored, strict=True))


def assess_bulk(
    session: Session,
    assets: Sequence[AIAsset] | None = None,
    *,
    config: RiskConfig | None = None,
    library: ControlLibrary | None = None,
    content_dir: Path | None = None,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> list[AssessmentSummary]:
    """Assess ``assets`` (every inventory asset when None), store each assessment with its inputs
    and explanation, and return the summaries: ``assess_assets`` without building the explanation
    objects, for runs over the whole estate (``latest``/``get_assessment`` read them back).

        done = assess_bulk(session)
        worst = max(done, key=lambda s: s.residual)
    """
    now, stored = _run(
        session,
        assets,
        config=config,
        library=library,
        content_dir=content_dir,
        providers=providers,
        now=now,
        progress=progress,
    )
    return [
        AssessmentSummary(
            assessment_id=assessment_id,
            asset_id=s.asset["id"],
            asset_name=s.explanation["asset_name"],
            asset_type=s.explanation["asset_type"],
            assessed_at=now,
            inherent=s.explanation["inherent"],
            effectiveness=s.explanation["effectiveness"],
            residual=s.explanation["residual"],
            level=s.explanation["level"],
            within_appetite=s.explanation["within_appetite"],
            next_control=(
                s.explanation["recommendations"][0]["control_id"]
                if s.explanation["recommendations"]
                else None
            ),
        )
        for assessment_id, s in stored
    ]


def assess_assets(
    session: Session,
    assets: Sequence[AIAsset] | None = None,
    *,
    config: RiskConfig | None = None,
    library: ControlLibrary | None = None,
    content_dir: Path | None = None,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> list[Assessment]:
    """Assess ``assets`` (every inventory asset when None) and store each assessment."""
    now, stored = _run(
        session,
        assets,
        config=config,
        library=library,
        content_dir=content_dir,
        providers=providers,
        now=now,
        progress=progress,
    )
    # Validated from the documents just stored, as ``get_assessment`` would read them back; the
    # parts assets share are validated once (validating 50 controls per asset cost ~0.3 ms).
    controls: dict[int, tuple[ControlInput, ...]] = {}
    bodies: dict[int, RiskExplanation] = {}
    found = []
    for assessment_id, s in stored:
        shared = s.inputs["controls"]
        if id(shared) not in controls:
            controls[id(shared)] = tuple(ControlInput.model_validate(c) for c in shared)
        if id(s.body) not in bodies:
            bodies[id(s.body)] = RiskExplanation.model_validate(s.body)
        inputs = AssessmentInputs.model_validate({**s.inputs, "controls": ()}).model_copy(
            update={"controls": controls[id(shared)]}
        )
        explanation = bodies[id(s.body)].model_copy(
            update={"asset_id": s.asset["id"], "asset_name": s.asset["name"]}
        )
        found.append(
            Assessment.model_construct(
                id=assessment_id,
                asset_id=s.asset["id"],
                org=s.asset["org"],
                assessed_at=now,
                inputs=inputs,
                explanation=explanation,
            )
        )
    return found


def assess(
    session: Session,
    asset: AIAsset | str,
    *,
    config: RiskConfig | None = None,
    library: ControlLibrary | None = None,
    content_dir: Path | None = None,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Assess one asset (an ``AIAsset`` or a reference the inventory resolves) and store it."""
    chosen = resolve_asset(session, asset) if isinstance(asset, str) else asset
    return assess_assets(
        session,
        [chosen],
        config=config,
        library=library,
        content_dir=content_dir,
        providers=providers,
        now=now,
    )[0]


def preview(
    session: Session,
    asset: AIAsset,
    *,
    config: RiskConfig,
    library: ControlLibrary,
    now: datetime | None = None,
) -> tuple[AssessmentInputs, RiskExplanation]:
    """Score without storing (what-if views and the quantitative view)."""
    now = utcnow() if now is None else ensure_utc(now)
    outputs = collect(ProviderContext(session=session, now=now), asset)
    return _assess_one(
        asset,
        states={cid: a.state for cid, a in control_states(session, asset.id).items()},
        config=config,
        library=library,
        providers=outputs,
        as_of=now.date(),
        digest=config.digest(),
    )


def recompute(session: Session, assessment: Assessment) -> RiskExplanation:
    """Recompute a stored assessment from its stored inputs and the stored risk model it used.
    Equal to ``assessment.explanation`` unless the scoring code itself changed."""
    return score_inputs(assessment.inputs, stored_config(session, assessment.inputs.config_digest))


def get_assessment(session: Session, assessment_id: int) -> Assessment:
    row = session.get(RiskAssessmentRow, assessment_id)
    if row is None:
        raise NotFoundError(f"no risk assessment {assessment_id}")
    return _to_assessment(session, row)


def latest(session: Session, asset_id: str) -> Assessment | None:
    row = session.scalars(
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.asset_id == asset_id)
        .order_by(RiskAssessmentRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _to_assessment(session, row)


def require_latest(session: Session, asset_id: str) -> Assessment:
    found = latest(session, asset_id)
    if found is None:
        raise GarrisonError(
            f"asset {asset_id} has not been assessed",
            hint=f"run `garrison risk assess {asset_id}` first",
        )
    return found


def history(session: Session, asset_id: str) -> list[Assessment]:
    """Every assessment of the asset, oldest first."""
    rows = session.scalars(
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.asset_id == asset_id)
        .order_by(RiskAssessmentRow.id)
    )
    return [_to_assessment(session, row) for row in rows]


def _latest_ids(org: str | None = None) -> Any:
    query = select(func.max(RiskAssessmentRow.id)).group_by(RiskAssessmentRow.asset_id)
    if org is not None:
        query = query.where(RiskAssessmentRow.org == org)
    return query


def latest_all(session: Session, *, org: str | None = None) -> list[Assessment]:
    rows = session.scalars(
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.id.in_(_latest_ids(org)))
        .order_by(RiskAssessmentRow.residual.desc(), RiskAssessmentRow.asset_id)
    )
    return [_to_assessment(session, row) for row in rows]


def top(session: Session, limit: int = 10, *, org: str | None = None) -> list[Assessment]:
    """The assets with the highest residual risk, by their latest assessment."""
    if limit < 1:
        raise GarrisonError(f"limit must be at least 1, not {limit}")
    rows = session.scalars(
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.id.in_(_latest_ids(org)))
        .order_by(RiskAssessmentRow.residual.desc(), RiskAssessmentRow.asset_id)
        .limit(limit)
    )
    return [_to_assessment(session, row) for row in rows]


def risk_levels(session: Session, *, org: str | None = None) -> dict[str, str]:
    """Latest level per asset ID: the risk-level hook ``inventory.search(..., risk=...)`` takes."""
    rows = session.execute(
        select(RiskAssessmentRow.asset_id, RiskAssessmentRow.level).where(
            RiskAssessmentRow.id.in_(_latest_ids(org))
        )
    )
    return {asset_id: level for asset_id, level in rows}  # noqa: C416 - rows are Row objects
