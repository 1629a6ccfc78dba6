"""The nightly scoring of one chunk and day (pure: no connection, no clock, no logging):
daily features of the day, personal baselines, and each person's refit
(analytics/detectors/person.py) with its routine and trend findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from analytics import lifecycle
from analytics.columns import Columns
from analytics.detectors import baselines, context
from analytics.detectors.features import FEATURES, DayData, daily_features
from analytics.detectors.person import PersonHistory, refit_person
from analytics.findings import Finding
from analytics.lifecycle import ActiveAlert, AlertChanges, Mark
from analytics.nightly.load import DayInput
from dolbom.alerts import AlertKind
from dolbom.jsonsafe import shown
from dolbom.thresholds import effective

FeatureRow = tuple[int, date, list[float]]
# enrollee, metric, bin, median, sigma, hours and days behind it
BaselineRow = tuple[int, int, int, float, float, int, int]
ModelRow = tuple[int, str, dict[str, Any], int]  # enrollee, model, params, days of history


@dataclass(frozen=True, slots=True)
class DayOutput:
    """What the nightly scoring of a chunk and day stores; ``findings`` are raised as the
    lifecycle decides (``alert_changes``), ``clears`` mark the kinds judged clear."""

    now: float
    fitted_for: datetime  # the end of the day
    features: tuple[FeatureRow, ...]
    baselines: tuple[BaselineRow, ...]
    models: tuple[ModelRow, ...]
    findings: tuple[Finding, ...]
    clears: tuple[Mark, ...]

    @property
    def alerted(self) -> list[int]:
        """The enrollees with a finding: whose active alerts the lifecycle needs."""
        return sorted({f.enrollee_id for f in self.findings})


def as_stored(vector: Sequence[float]) -> tuple[float, ...]:
    """Daily features as the store gives them back (``real[]``, read as the shortest decimal
    of each float4): what the refit of the days after will read, so today's too."""
    return tuple(float(str(np.float32(v))) for v in vector)


def _rows(column: np.ndarray) -> dict[int, np.ndarray]:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(column.tolist()):
        groups[e].append(i)
    return {e: np.array(rows, dtype=np.int64) for e, rows in groups.items()}


def _day_data(
    events: Columns, steps: Columns, sleep: Columns, rows: tuple[np.ndarray, ...], t0: float
) -> DayData:
    def h(ts: np.ndarray) -> np.ndarray:
        return (ts - t0) / 3600.0

    ev, st, sl = rows
    return DayData(
        event_type=events["type"][ev],
        event_h=h(events["ts"][ev]),
        event_bathroom=events["bathroom"][ev],
        answered=events["answered"][ev],
        mood=events["mood"][ev],
        steps_h=h(steps["ts"][st]),
        steps=steps["value"][st],
        sleep_h=h(sleep["ts"][sl]),
        sleep_minutes=sleep["value"][sl],
    )


def _features(inp: DayInput) -> list[FeatureRow]:
    """Day D's features of everybody with an event, steps or sleep that day."""
    t0 = inp.start.timestamp()
    by_event = _rows(inp.events["enrollee_id"])
    by_steps, by_sleep = _rows(inp.steps["enrollee_id"]), _rows(inp.sleep["enrollee_id"])
    none = np.zeros(0, dtype=np.int64)
    out = []
    for e, *_ in inp.people:
        if e not in by_event and e not in by_steps and e not in by_sleep:
            continue
        rows = (by_event.get(e, none), by_steps.get(e, none), by_sleep.get(e, none))
        data = _day_data(inp.events, inp.steps, inp.sleep, rows, t0)
        out.append((e, inp.day, [float(v) for v in daily_features(data)]))
    return out


def _baselines(inp: DayInput) -> list[BaselineRow]:
    """Each person's baselines of the last four weeks of hourly means, in local time bins."""
    offset = context.utc_offset_s(inp.timezone, inp.end)
    per: dict[tuple[int, int], list[int]] = defaultdict(list)
    hourly = inp.hourly
    for i, key in enumerate(zip(hourly["enrollee_id"].tolist(), hourly["metric"].tolist(), strict=True)):
        per[key].append(i)
    out: list[BaselineRow] = []
    for (e, metric), rows in per.items():
        local = hourly["ts"][rows] + offset
        fitted = baselines.fit(
            hourly["mean"][rows],
            baselines.time_bin((local % 86400) / 3600),
            np.floor(local / 86400),
            baselines.SIGMA_FLOOR[metric],
        )
        n_days = len(np.unique(np.floor(local / 86400)))
        out += [(e, metric, b, med, sig, n, n_days) for b, (med, sig, n) in fitted.items()]
    return out


def _by_day(series: Columns) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per enrollee: (day numbers, values) of a series."""
    rows = _rows(series["enrollee_id"])
    return {e: (series["ts"][mine] / 86400.0, series["value"][mine]) for e, mine in rows.items()}


def _daily_mean(days: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if days.size == 0:
        return days, values
    keys = np.floor(days)
    unique = np.unique(keys)
    return unique, np.array([values[keys == k].mean() for k in unique])


def score_day(inp: DayInput, now: float) -> DayOutput:
    """Features, baselines and every person's refit for ``inp``'s day, as of data time ``now``."""
    features = _features(inp)
    history: dict[int, dict[date, tuple[float, ...]]] = {e: dict(days) for e, days in inp.history.items()}
    for e, today, today_features in features:
        history.setdefault(e, {})[today] = as_stored(today_features)
    weights, sbp = _by_day(inp.weights), _by_day(inp.sbp)
    start, day = inp.history_start, inp.day
    t0 = inp.start.timestamp()
    day_number = t0 / 86400.0
    empty = (np.zeros(0), np.zeros(0))
    models: list[ModelRow] = []
    findings: list[Finding] = []
    clears: list[Mark] = []
    for e, _tz, overrides, _region in inp.people:
        mine = history.get(e, {})
        if day not in mine:
            continue
        matrix = np.full(((day - start).days + 1, len(FEATURES)), np.nan)
        for d, vector in mine.items():
            matrix[(d - start).days] = vector
        matrix = matrix[(min(mine) - start).days :]
        w_days, w = weights.get(e, empty)
        s_days, s = _daily_mean(*sbp.get(e, empty))
        person = PersonHistory(matrix, w_days, w, s_days, s, thresholds=effective(overrides))
        params, found, cleared = refit_person(person, day_number)
        models.append((e, params["model"], shown(params), int(matrix.shape[0] - 1)))
        findings += [
            Finding(e, f.kind, f.severity, t0, f.summary, {**f.evidence, "day": day.isoformat()}, f.score)
            for f in found
        ]
        clears += [(e, kind, now) for kind in cleared]
    return DayOutput(
        now=now,
        fitted_for=inp.end,
        features=tuple(features),
        baselines=tuple(_baselines(inp)),
        models=tuple(models),
        findings=tuple(findings),
        clears=tuple(clears),
    )


def alert_changes(out: DayOutput, active: Sequence[ActiveAlert]) -> AlertChanges:
    """The day's findings raised as the lifecycle decides (against ``active``: the alerts of
    ``out.alerted``), and the kinds judged clear."""
    current: Mapping[tuple[int, AlertKind], ActiveAlert] = {(a.enrollee_id, a.kind): a for a in active}
    raised = lifecycle.raising(out.findings, current, out.now)
    return AlertChanges(
        raised=raised.raised, snooze_ended=raised.snooze_ended, breaches=raised.breaches, clears=out.clears
    )
