"""The risk pillar's store edge: assess assets, keep every assessment with its inputs, answer
history and top-N, and recompute a stored score from what was stored.

Other pillars call these functions; nobody reads the risk tables directly. The inventory and the
control state are read through their own public functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from garrison.controls import ControlLibrary, get_library
from garrison.controls.state import (
    Attestation,
    ControlState,
    control_states,
    current_states,
)
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.inventory import AIAsset, resolve_asset, search
from garrison.risk.config import RiskConfig, load_risk_config
from garrison.risk.models import (
    Assessment,
    AssessmentInputs,
    ControlInput,
    ProviderOutput,
    RiskExplanation,
)
from garrison.risk.providers import ProviderContext, RiskFactorProvider, collect
from garrison.risk.scoring import explain
from garrison.store.models.risk import RiskAssessmentRow, RiskConfigRow

Progress = Callable[[int], None]
"""Called with the number of assets just assessed (drives a progress bar)."""


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


def _to_assessment(row: RiskAssessmentRow) -> Assessment:
    return Assessment(
        id=row.id,
        asset_id=row.asset_id,
        org=row.org,
        assessed_at=row.assessed_at,
        inputs=AssessmentInputs.model_validate(row.inputs),
        explanation=RiskExplanation.model_validate(row.explanation),
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


def _json_param(name: str, dialect: str) -> Any:
    # The JSON is serialised once by pydantic (``model_dump_json``) and bound as text, instead of
    # ``model_dump`` followed by the JSON type's ``json.dumps``; PostgreSQL casts it to JSONB.
    param = bindparam(name, type_=Text())
    return cast(param, JSONB()) if dialect == "postgresql" else param


def _store_rows(session: Session, values: list[dict[str, Any]]) -> list[int]:
    """Insert the assessment rows with executemany (in chunks); their IDs, in order."""
    dialect = session.get_bind().dialect.name
    statement = (
        insert(RiskAssessmentRow)
        .values(
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
        .returning(RiskAssessmentRow.id, sort_by_parameter_order=True)
    )
    ids: list[int] = []
    for start in range(0, len(values), _INSERT_CHUNK):
        chunk = values[start : start + _INSERT_CHUNK]
        ids.extend(session.execute(statement, chunk).scalars())
    return ids


def _values(
    asset: AIAsset, inputs: AssessmentInputs, result: RiskExplanation, now: datetime
) -> dict[str, Any]:
    return {
        "org": asset.org,
        "asset_id": asset.id,
        "assessed_at": now,
        "inherent": result.inherent,
        "residual": result.residual,
        "level": result.level,
        "config_digest": inputs.config_digest,
        "inputs": inputs.model_dump_json(),
        "explanation": result.model_dump_json(),
    }


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
    now = utcnow() if now is None else ensure_utc(now)
    config = config or load_risk_config(content_dir)
    library = library or get_library(content_dir)
    chosen = list(search(session)) if assets is None else list(assets)
    if not chosen:
        return []
    digest = _ensure_config(session, config, now)
    all_states = current_states(session, [a.id for a in chosen])
    context = ProviderContext(session=session, now=now)
    scored: list[tuple[AIAsset, AssessmentInputs, RiskExplanation]] = []
    values: list[dict[str, Any]] = []
    for asset in chosen:
        outputs = collect(context, asset, providers)
        inputs, result = _assess_one(
            asset,
            states=all_states.get(asset.id, {}),
            config=config,
            library=library,
            providers=outputs,
            as_of=now.date(),
            digest=digest,
        )
        scored.append((asset, inputs, result))
        values.append(_values(asset, inputs, result, now))
        if progress is not None:
            progress(1)
    session.flush()  # the risk model row first: the assessments refer to it
    ids = _store_rows(session, values)
    # Built from the values just stored rather than re-read and re-validated from JSON.
    return [
        Assessment.model_construct(
            id=assessment_id,
            asset_id=asset.id,
            org=asset.org,
            assessed_at=now,
            inputs=inputs,
            explanation=result,
        )
        for assessment_id, (asset, inputs, result) in zip(ids, scored, strict=True)
    ]


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
    return _to_assessment(row)


def latest(session: Session, asset_id: str) -> Assessment | None:
    row = session.scalars(
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.asset_id == asset_id)
        .order_by(RiskAssessmentRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _to_assessment(row)


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
    return [_to_assessment(row) for row in rows]


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
    return [_to_assessment(row) for row in rows]


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
    return [_to_assessment(row) for row in rows]


def risk_levels(session: Session, *, org: str | None = None) -> dict[str, str]:
    """Latest level per asset ID: the risk-level hook ``inventory.search(..., risk=...)`` takes."""
    rows = session.execute(
        select(RiskAssessmentRow.asset_id, RiskAssessmentRow.level).where(
            RiskAssessmentRow.id.in_(_latest_ids(org))
        )
    )
    return {asset_id: level for asset_id, level in rows}  # noqa: C416 - rows are Row objects
