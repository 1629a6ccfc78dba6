"""Clinical rules over a batch of readings, vectorised across all enrollees at once.

Numbers come from ``dolbom.thresholds`` (sources cited there and below) and may be overridden
per enrollee; rules add *how* a threshold is applied: confirmation on a repeat reading (AHA),
sustained-for-minutes for wearable streams (a single wrist reading is often an artefact), a
rest condition for heart rate, a personal-baseline check for sub-critical bands (so "always a
bit high" is not re-alerted), and a hysteresis band for clearing. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from analytics.detectors import news2
from analytics.detectors.baselines import BaselineTable, time_bin
from analytics.detectors.vital_rules import (
    KIND_INDEX,
    PERSONAL_K,
    REST_MAX_STEPS,
    REST_WINDOW_S,
    RULES_BY_METRIC,
    STEPS,
    THRESHOLD_INDEX,
    THRESHOLD_NAMES,
    VITAL_KINDS,
    VitalRule,
)
from analytics.findings import Clearance, Finding, rank
from dolbom.alerts import AlertKind
from dolbom.thresholds import THRESHOLD_BY_NAME
from dolbom.wire import METRIC_BY_CODE, METRIC_BY_NAME


@dataclass(frozen=True, slots=True)
class VitalBatch:
    """Readings of many enrollees: aligned 1-d arrays; ``new`` marks the window being scored."""

    enrollee: np.ndarray  # int index into the enrollee table
    metric: np.ndarray  # wire metric code
    ts: np.ndarray  # epoch seconds (float)
    value: np.ndarray
    new: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.ts.size)


@dataclass(frozen=True, slots=True)
class EnrolleeContext:
    """Per-enrollee arrays the rules need: thresholds, clock offset and baselines."""

    thresholds: np.ndarray  # (n, len(THRESHOLD_NAMES)), effective (defaults + overrides)
    utc_offset_s: np.ndarray  # (n,)
    baselines: BaselineTable
    enrollee_id: np.ndarray  # (n,): the id of each row, which findings carry

    @classmethod
    def defaults(cls, n: int, utc_offset_s: float = 9 * 3600) -> EnrolleeContext:
        """``n`` enrollees with the default thresholds and no baselines; ids 0..n-1."""
        row = np.array([THRESHOLD_BY_NAME[name].value for name in THRESHOLD_NAMES])
        return cls(
            np.tile(row, (n, 1)),
            np.full(n, utc_offset_s),
            BaselineTable.empty(n),
            np.arange(n, dtype=np.int64),
        )


_OPS: Final = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}
_SYMBOL: Final = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


def _breach(op: str, value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    return np.asarray(_OPS[op](value, threshold))


def _cleared(op: str, value: np.ndarray, threshold: np.ndarray, margin: float) -> np.ndarray:
    if op in ("lt", "le"):
        return value >= threshold + margin
    return value <= threshold - margin


def _window_counts(key: np.ndarray, flags: np.ndarray, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a (group, ts)-sorted key: (rows, flagged rows) within the past window."""
    start = np.searchsorted(key, key - np.int64(window_s), side="left")
    cum = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    idx = np.arange(key.size)
    return idx + 1 - start, cum[idx + 1] - cum[start]


def _group_key(enrollee: np.ndarray, ts: np.ndarray) -> np.ndarray:
    return (enrollee.astype(np.int64) << 34) + ts.astype(np.int64)


def _recent_steps(
    batch: VitalBatch, enrollee: np.ndarray, ts: np.ndarray, window_s: float = 900.0
) -> tuple[np.ndarray, np.ndarray]:
    """Steps in the ``window_s`` before each (enrollee, ts); and whether any steps data exists."""
    steps = batch.metric == STEPS
    s_key = _group_key(batch.enrollee[steps], batch.ts[steps])
    order = np.argsort(s_key, kind="stable")
    s_key, s_val = s_key[order], batch.value[steps][order]
    cum = np.concatenate(([0.0], np.cumsum(s_val)))
    key = _group_key(enrollee, ts)
    hi = np.searchsorted(s_key, key, side="right")
    lo = np.searchsorted(s_key, key - np.int64(window_s), side="left")
    has = np.isin(enrollee, np.unique(batch.enrollee[steps]))
    return cum[hi] - cum[lo], has


def _latest_by_enrollee(out: np.ndarray, enrollee: np.ndarray, ts: np.ndarray, mask: np.ndarray) -> None:
    """out[e] = max(out[e], latest ts of masked rows of e); rows sorted by (enrollee, ts)."""
    e, t = enrollee[mask], ts[mask]
    if e.size:
        last = np.flatnonzero(np.diff(e, append=-1) != 0)
        np.maximum.at(out, e[last], t[last])


def score_vitals(batch: VitalBatch, ctx: EnrolleeContext) -> tuple[list[Finding], list[Clearance]]:
    """Apply every rule to the batch; one finding per (enrollee, kind), the worst level wins.

    Clearances are returned only for (enrollee, kind) pairs whose latest cleared reading
    comes after their latest breaching one in this batch.
    """
    findings, clear_ts, breach_ts = score_vitals_arrays(batch, ctx)
    e_idx, k_idx = np.nonzero(clear_ts > breach_ts)
    clearances = [
        Clearance(int(ctx.enrollee_id[e]), VITAL_KINDS[k], float(clear_ts[e, k]))
        for e, k in zip(e_idx, k_idx, strict=True)
    ]
    return findings, clearances


def score_vitals_arrays(
    batch: VitalBatch, ctx: EnrolleeContext
) -> tuple[list[Finding], np.ndarray, np.ndarray]:
    """Findings, and (n_enrollees, len(VITAL_KINDS)) arrays of the latest cleared and
    breaching reading time per kind (-inf where none) for the lifecycle."""
    best: dict[tuple[int, AlertKind], Finding] = {}  # by (row of the enrollee, kind)
    n = ctx.thresholds.shape[0]
    clear_ts = np.full((n, len(VITAL_KINDS)), -np.inf)
    breach_ts = np.full((n, len(VITAL_KINDS)), -np.inf)
    local_hour = ((batch.ts + ctx.utc_offset_s[batch.enrollee]) % 86400) / 3600.0
    for metric_name, rules in RULES_BY_METRIC.items():
        code = METRIC_BY_NAME[metric_name].code
        sel = np.flatnonzero(batch.metric == code)
        if sel.size == 0:
            continue
        key = _group_key(batch.enrollee[sel], batch.ts[sel])
        order = np.argsort(key, kind="stable")
        sel, key = sel[order], key[order]
        enrollee, ts, value, new = batch.enrollee[sel], batch.ts[sel], batch.value[sel], batch.new[sel]
        median, sigma, personal = ctx.baselines.lookup(enrollee, code, time_bin(local_hour[sel]))
        for rule in rules:
            _apply_rule(
                rule,
                batch,
                ctx,
                enrollee,
                ts,
                value,
                new,
                key,
                median,
                sigma,
                personal,
                best,
                clear_ts,
                breach_ts,
            )
    return _with_news2(best, batch), clear_ts, breach_ts


def _apply_rule(
    rule: VitalRule,
    batch: VitalBatch,
    ctx: EnrolleeContext,
    enrollee: np.ndarray,
    ts: np.ndarray,
    value: np.ndarray,
    new: np.ndarray,
    key: np.ndarray,
    median: np.ndarray,
    sigma: np.ndarray,
    personal: np.ndarray,
    best: dict[tuple[int, AlertKind], Finding],
    clear_ts: np.ndarray,
    breach_ts: np.ndarray,
) -> None:
    """One rule over one metric's (enrollee, ts)-sorted rows; updates ``best`` and the arrays."""
    threshold = ctx.thresholds[enrollee, THRESHOLD_INDEX[rule.threshold]]
    if rule.relative:
        compared = np.round(value - median, 2)  # readings are stored as float4
        breach = _breach(rule.op, compared, threshold) & personal
        cleared = _cleared(rule.op, compared, threshold, rule.clear_margin) | ~personal
    else:
        breach = _breach(rule.op, value, threshold)
        cleared = _cleared(rule.op, value, threshold, rule.clear_margin)
    n_all, n_breach = _window_counts(key, breach, rule.window_s)
    fire = new & breach & (n_breach >= rule.min_count) & (n_breach >= rule.min_fraction * n_all)
    if rule.personal:
        fire &= np.abs(value - median) > PERSONAL_K * sigma
    steps = np.zeros(value.size)
    if rule.at_rest and fire.any():
        window = max(REST_WINDOW_S, rule.window_s)  # at rest over the whole sustained stretch
        steps, has_steps = _recent_steps(batch, enrollee, ts, window)
        fire &= ~has_steps | (steps < REST_MAX_STEPS * window / REST_WINDOW_S)
    kind_i = KIND_INDEX[rule.kind]
    _latest_by_enrollee(clear_ts[:, kind_i], enrollee, ts, new & cleared)
    _latest_by_enrollee(breach_ts[:, kind_i], enrollee, ts, new & breach)
    if not fire.any():
        return
    fired = np.flatnonzero(fire)  # rows are sorted by enrollee: split them into groups
    for rows in np.split(fired, np.flatnonzero(np.diff(enrollee[fired])) + 1):
        e = enrollee[rows[0]]
        worst_i = rows[np.argmin(value[rows])] if rule.op in ("lt", "le") else rows[np.argmax(value[rows])]
        finding = _finding(
            rule,
            int(ctx.enrollee_id[e]),
            rows,
            worst_i,
            ts,
            value,
            threshold,
            median,
            sigma,
            personal,
            n_breach,
            steps,
        )
        previous = best.get((int(e), rule.kind))
        if previous is None or rank(finding.severity) > rank(previous.severity):
            best[(int(e), rule.kind)] = finding


def _finding(
    rule: VitalRule,
    enrollee_id: int,
    rows: np.ndarray,
    worst_i: int,
    ts: np.ndarray,
    value: np.ndarray,
    threshold: np.ndarray,
    median: np.ndarray,
    sigma: np.ndarray,
    personal: np.ndarray,
    n_breach: np.ndarray,
    steps: np.ndarray,
) -> Finding:
    metric = METRIC_BY_NAME[rule.metric]
    source = THRESHOLD_BY_NAME[rule.threshold].source
    limit = float(threshold[worst_i])
    worst = float(value[worst_i])
    usual = round(float(median[worst_i]), 2)
    baseline: dict[str, Any] = {
        "median": usual,
        "sigma": round(float(sigma[worst_i]), 2),
        "source": "personal" if bool(personal[worst_i]) else "population default (cold start)",
    }
    if rule.relative:
        text = (
            f"{rule.label}: {worst:g} {metric.unit}, {worst - usual:+.1f} over usual "
            f"{usual:g} (rise > {limit:g} {metric.unit}, {source})"
        )
    else:
        confirm = ""
        if rule.min_count >= 2 and rule.kind == AlertKind.HYPERTENSIVE_CRISIS:
            confirm = " confirmed on a repeat reading"
        elif rule.min_count >= 2:
            confirm = f", {int(n_breach[worst_i])} readings in {int(rule.window_s // 60)} min"
        elif rule.kind == AlertKind.HYPERTENSIVE_CRISIS:
            confirm = " on a single reading; repeat the measurement"
        text = (
            f"{rule.label} {worst:g} {metric.unit}{confirm} (threshold {_SYMBOL[rule.op]} {limit:g}, "
            f"{source})"
        )
    evidence: dict[str, Any] = {
        "summary": text[0].upper() + text[1:],
        "metric": rule.metric,
        "unit": metric.unit,
        "value": round(worst, 2),
        "values": [{"ts": float(ts[i]), "value": round(float(value[i]), 2)} for i in rows[-10:]],
        "threshold": {"name": rule.threshold, "op": rule.op, "value": limit, "source": source},
        "baseline": baseline,
        "rule": {
            "min_count": rule.min_count,
            "window_s": rule.window_s,
            "personal": rule.personal,
            "at_rest": rule.at_rest,
        },
    }
    if rule.at_rest:
        evidence["steps_before"] = {
            "steps": float(steps[worst_i]),
            "minutes": max(REST_WINDOW_S, rule.window_s) / 60,
        }
    gap = abs(worst - limit) if not rule.relative else abs(worst - usual) - limit
    return Finding(
        enrollee_id=enrollee_id,
        kind=rule.kind,
        severity=rule.severity,
        onset_ts=float(ts[rows[0]]),
        summary=evidence["summary"],
        evidence=evidence,
        score=float(gap),
    )


def _with_news2(best: dict[tuple[int, AlertKind], Finding], batch: VitalBatch) -> list[Finding]:
    """The findings (by row of their enrollee and kind), each with a partial NEWS2 from its
    enrollee's latest value of each parameter in the batch."""
    if not best:
        return []
    codes = {METRIC_BY_NAME[name].code: name for name in news2.PARAMETERS}
    rows = np.flatnonzero(
        np.isin(batch.enrollee, [e for e, _ in best]) & np.isin(batch.metric, list(codes))
    )
    latest: dict[int, dict[str, tuple[float, float]]] = {}
    for i in rows.tolist():
        mine = latest.setdefault(int(batch.enrollee[i]), {})
        name = codes[int(batch.metric[i])]
        if name not in mine or batch.ts[i] > mine[name][0]:
            mine[name] = (float(batch.ts[i]), float(batch.value[i]))
    for (e, _), f in best.items():
        values = {name: v for name, (_, v) in latest.get(e, {}).items()}
        f.evidence["news2_partial"] = news2.partial_score(values)
    return list(best.values())


def metric_name(code: int) -> str:
    return METRIC_BY_CODE[code].name
