"""The minute cycle's scoring (pure: no connection, no clock, no logging): what the loads
read (analytics/minute/load.py) in, what the writes store (analytics/minute/write.py) out.

``needs_context`` is the decision between the two reads of the new data: a rule fires only on
a new reading past its line, and every other output of the rules (the latest breach and
clearance times that hysteresis keeps) comes from the new readings alone; so the new
readings are scored first and only the enrollees with one past a line (a few in a hundred)
get their 30 minutes of context and all their baselines. The findings are the same as with
context for everybody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from analytics import lifecycle
from analytics.columns import Columns
from analytics.detectors import clock, context
from analytics.detectors.features import ACTIVITY_EVENTS, CHECKIN, DOOR_OPEN, DOORS
from analytics.detectors.vital_rules import KIND_INDEX, STEPS, THRESHOLD_INDEX
from analytics.detectors.vitals import VitalBatch, score_vitals_arrays
from analytics.detectors.weight import LOOKBACK_S, WEIGHT, weight_findings
from analytics.findings import Finding
from analytics.lifecycle import AlertChanges, Mark
from analytics.minute.load import ClockInput, ContextRequest, MinuteInput, NewData
from dolbom.alerts import AlertKind
from dolbom.timeutil import utc


@dataclass(frozen=True, slots=True)
class ActivityUpdate:
    """What the minute saw of each enrollee with new data (``analytics_activity``): the
    latest data, movement, door, check-in and answered check-in (epoch seconds, -inf: none
    in these windows); check-ins unanswered since the last answer, a recount from the store
    where ``recounted``, else to be added."""

    enrollee_ids: np.ndarray
    last_data: np.ndarray
    last_activity: np.ndarray
    last_door: np.ndarray
    last_checkin: np.ndarray
    last_answered: np.ndarray
    unanswered: np.ndarray
    recounted: np.ndarray


@dataclass(frozen=True, slots=True)
class DevicesSeen:
    """Every device's new data times (``analytics_device_seen``; wearables also by hour)."""

    device: np.ndarray
    ts: np.ndarray
    wearable: np.ndarray


@dataclass(frozen=True, slots=True)
class NewDataOutput:
    """What the scoring of the minute's new data writes."""

    now: float
    alerts: AlertChanges
    activity: ActivityUpdate
    devices: DevicesSeen
    counts: Mapping[str, int]  # readings, events, alerts (raised or updated)


@dataclass(frozen=True, slots=True)
class ClockOutput:
    """What the clock checks write."""

    now: float
    alerts: AlertChanges
    counts: Mapping[str, int]  # enrollees, alerts, resolved, escalated


def _batch(ids: np.ndarray, starts: np.ndarray, readings: Columns) -> VitalBatch:
    row = np.searchsorted(ids, readings["enrollee_id"]).astype(np.int64)
    ts = readings["ts"]
    return VitalBatch(row, readings["metric"], ts, readings["value"], ts > starts[row])


def needs_context(new: NewData) -> ContextRequest:
    """Who the second read is for: the enrollees with a new reading past a rule's line
    (context and all baselines), with a new weight (their weights of the days before), with a
    door opening (their night-door profile) and with a check-in (their recent check-ins,
    counted afresh: windows may overlap when a backlog arrives, so no running count is kept)."""
    ctx = context.build(new.enrollees, new.baselines, utc(new.now))
    _, _, breach_ts = score_vitals_arrays(_batch(new.ids, new.starts, new.readings), ctx)
    latest: dict[int, float] = {}  # each new weight's enrollee: the time of her latest
    weighed = new.readings["metric"] == WEIGHT
    who, when = new.readings["enrollee_id"][weighed].tolist(), new.readings["ts"][weighed].tolist()
    for e, ts in zip(who, when, strict=True):
        latest[e] = max(latest.get(e, -np.inf), ts)
    events = new.events
    return ContextRequest(
        past_line=np.flatnonzero(np.isfinite(breach_ts).any(axis=1)),
        weighed=np.array(sorted(latest), dtype=np.int64),
        weights_from=min(latest.values(), default=0.0) - LOOKBACK_S,
        weights_until=max(latest.values(), default=0.0) + 1.0,
        door_opened=np.unique(events["enrollee_id"][events["type"] == DOOR_OPEN]),
        checked_in=np.unique(events["enrollee_id"][events["type"] == CHECKIN]),
        checkins_until=float(events["ts"].max()) if events["ts"].size else new.now,
    )


def _weight_findings(
    ids: np.ndarray, batch: VitalBatch, thresholds: np.ndarray, weights: Columns
) -> list[Finding]:
    """rapid_weight_gain on arrival, for every enrollee with a new weight."""
    new = batch.new & (batch.metric == WEIGHT)
    latest: dict[int, float] = {}
    for row, ts in zip(batch.enrollee[new].tolist(), batch.ts[new].tolist(), strict=True):
        latest[row] = max(latest.get(row, -np.inf), ts)
    found: list[Finding] = []
    limit = THRESHOLD_INDEX["weight_gain_3d"]
    for row in sorted(latest):
        mine = weights["enrollee_id"] == ids[row]
        days, kg = weights["ts"][mine] / 86400.0, weights["value"][mine]
        found += weight_findings(int(ids[row]), days, kg, latest[row], float(thresholds[row, limit]))
    return found


def _hysteresis(
    ids: np.ndarray,
    active: set[tuple[int, AlertKind]],
    clear_ts: np.ndarray,
    breach_ts: np.ndarray,
) -> tuple[list[Mark], list[Mark]]:
    """The latest breach and clearance of each active vital alert's condition in these
    windows (what auto-resolve reads)."""
    row = {e: i for i, e in enumerate(ids.tolist())}
    breaches, clears = [], []
    for e, kind in sorted(active):
        k = KIND_INDEX.get(kind)
        if k is None:
            continue
        i = row[e]
        if np.isfinite(breach_ts[i, k]):
            breaches.append((e, kind, float(breach_ts[i, k])))
        if clear_ts[i, k] > breach_ts[i, k]:
            clears.append((e, kind, float(clear_ts[i, k])))
    return breaches, clears


def _activity(
    ids: np.ndarray,
    batch: VitalBatch,
    events: Columns,
    e_row: np.ndarray,
    checkins: Mapping[int, tuple[bool, ...]],
) -> ActivityUpdate:
    n = ids.size

    def latest(mask: np.ndarray, row: np.ndarray, ts: np.ndarray) -> np.ndarray:
        out = np.full(n, -np.inf)
        np.maximum.at(out, row[mask], ts[mask])
        return out

    new = batch.new
    last_data = np.maximum(
        latest(new, batch.enrollee, batch.ts), latest(np.ones(e_row.size, bool), e_row, events["ts"])
    )
    moving = np.isin(events["type"], ACTIVITY_EVENTS)
    last_activity = np.maximum(
        latest(new & (batch.metric == STEPS) & (batch.value > 0), batch.enrollee, batch.ts),
        latest(moving, e_row, events["ts"]),
    )
    last_door = latest(np.isin(events["type"], DOORS), e_row, events["ts"])
    checkin = events["type"] == CHECKIN
    last_checkin = latest(checkin, e_row, events["ts"])
    last_answered = latest(checkin & (events["answered"] == 1), e_row, events["ts"])
    # check-ins unanswered in a row, counted afresh from the store's recent ones
    unanswered = np.zeros(n, dtype=np.int64)
    recounted = np.zeros(n, dtype=bool)
    position = {e: i for i, e in enumerate(ids.tolist())}
    for enrollee_id, answers in checkins.items():
        i = position[enrollee_id]
        recounted[i] = True
        for was_answered in reversed(answers):
            if was_answered:
                break
            unanswered[i] += 1
    seen = np.isfinite(last_data)
    return ActivityUpdate(
        enrollee_ids=ids[seen],
        last_data=last_data[seen],
        last_activity=last_activity[seen],
        last_door=last_door[seen],
        last_checkin=last_checkin[seen],
        last_answered=last_answered[seen],
        unanswered=unanswered[seen],
        recounted=recounted[seen],
    )


def score_new_data(inp: MinuteInput) -> NewDataOutput:
    """The vital rules, night wandering and weight gain over the windows' new data; what they
    change in the alerts (and the conditions' breach and clearance times); the activity and
    the devices seen."""
    new, events = inp.new, inp.events
    ids, now = new.ids, new.now
    ctx = context.build(new.enrollees, inp.baselines, utc(now))
    batch = _batch(ids, new.starts, inp.readings)
    findings, clear_ts, breach_ts = score_vitals_arrays(batch, ctx)
    e_row = np.searchsorted(ids, events["enrollee_id"]).astype(np.int64)
    door = events["type"] == DOOR_OPEN
    rate, nights = np.zeros(ids.size), np.zeros(ids.size)  # read for those with a door opening only
    profiled = np.searchsorted(ids, inp.night_doors["enrollee_id"])
    rate[profiled], nights[profiled] = inp.night_doors["rate"], inp.night_doors["nights"]
    door_rows = e_row[door]
    findings += clock.night_wandering(
        ids[door_rows], events["ts"][door], ctx.utc_offset_s[door_rows], rate[door_rows], nights[door_rows]
    )
    findings += _weight_findings(ids, batch, ctx.thresholds, inp.weights)
    active = {(a.enrollee_id, a.kind): a for a in inp.active}
    raised = lifecycle.raising(findings, active, now)
    # the vital alerts active once these are raised: those before, and those of the findings
    after = set(active) | {(f.enrollee_id, f.kind) for f in findings}
    breaches, clears = _hysteresis(ids, after, clear_ts, breach_ts)
    changes = AlertChanges(
        raised=raised.raised,
        snooze_ended=raised.snooze_ended,
        breaches=(*raised.breaches, *breaches),
        clears=tuple(clears),
    )
    new_rows = batch.new
    devices = DevicesSeen(
        device=np.concatenate([inp.readings["device"][new_rows], events["device"]]).astype(np.int64),
        ts=np.concatenate([batch.ts[new_rows], events["ts"]]),
        wearable=np.concatenate([inp.readings["wearable"][new_rows], events["wearable"]]),
    )
    return NewDataOutput(
        now=now,
        alerts=changes,
        activity=_activity(ids, batch, events, e_row, inp.checkins),
        devices=devices,
        counts={
            "readings": int(new_rows.sum()),
            "events": int(events["ts"].size),
            "alerts": len(changes.raised),
        },
    )


_CLOCK_CHECKS = (
    (AlertKind.INACTIVITY, clock.inactivity),
    (AlertKind.NO_DATA, clock.no_data),
    (AlertKind.MISSED_CHECKINS, clock.missed_checkins),
)


def score_clock(inp: ClockInput) -> ClockOutput:
    """The clock conditions of the candidates, what they change in the alerts, and the
    auto-resolve and escalation of the shards' active alerts (ingest's too) after that."""
    found, now = inp.enrollees, inp.now
    ids = found["enrollee_id"].astype(np.int64)
    moment = utc(now)
    zone_offsets = np.array([context.utc_offset_s(zone, moment) for zone in inp.zones] or [0.0], dtype=float)
    state = clock.ActivityState(
        enrollee_id=ids,
        utc_offset_s=zone_offsets[found["zone"]],
        has_home_sensors=found["has_home_sensors"],
        has_speaker=found["has_speaker"],
        has_continuous=found["has_continuous"],
        last_data_ts=found["last_data_ts"],
        last_activity_ts=found["last_activity_ts"],
        last_door_ts=found["last_door_ts"],
        last_checkin_ts=found["last_checkin_ts"],
        last_answered_ts=found["last_answered_ts"],
        unanswered_in_row=found["unanswered_in_row"].astype(np.int64),
        wake_h=found["wake_h"],
        sleep_h=found["sleep_h"],
        gap_p90_h=found["gap_p90_h"],
    )
    findings: list[Finding] = []
    clear_masks: dict[AlertKind, np.ndarray] = {}
    for kind, check in _CLOCK_CHECKS:
        fired, clear_masks[kind] = check(state, now)
        findings += fired
    row = {e: i for i, e in enumerate(ids.tolist())}
    devs = inp.devices
    mine = np.array([e in row for e in devs["enrollee_id"].tolist()], dtype=bool)
    kept = np.flatnonzero(mine).tolist()
    device_state = clock.DeviceState(
        enrollee=np.array([row[e] for e in devs["enrollee_id"][mine].tolist()], dtype=np.int64),
        device_id=[inp.device_names[i] for i in kept],
        kind=[inp.device_kinds[i] for i in kept],
        online=devs["online"][mine],
        status_ts=devs["status_ts"][mine],
        battery=devs["battery"][mine],
        last_ts=devs["last_ts"][mine],
    )
    offline, battery, clear_masks[AlertKind.DEVICE_OFFLINE], clear_masks[AlertKind.LOW_BATTERY] = (
        clock.devices(device_state, state, now)
    )
    findings += offline + battery
    raised = lifecycle.raising(findings, {(a.enrollee_id, a.kind): a for a in inp.active}, now)
    clears = tuple(
        (a.enrollee_id, a.kind, now)
        for a in inp.active
        if a.kind in clear_masks and a.enrollee_id in row and clear_masks[a.kind][row[a.enrollee_id]]
    )
    changes = AlertChanges(
        raised=raised.raised, snooze_ended=raised.snooze_ended, breaches=raised.breaches, clears=clears
    )
    follow_ups = lifecycle.follow_ups(inp.active, inp.conditions, changes, now)
    resolved = sum(isinstance(f, lifecycle.AutoResolve) for f in follow_ups)
    return ClockOutput(
        now=now,
        alerts=AlertChanges(
            raised=changes.raised,
            snooze_ended=changes.snooze_ended,
            breaches=changes.breaches,
            clears=changes.clears,
            follow_ups=follow_ups,
        ),
        counts={
            "enrollees": int(ids.size),
            "alerts": len(changes.raised),
            "resolved": resolved,
            "escalated": len(follow_ups) - resolved,
        },
    )
