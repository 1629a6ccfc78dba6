"""The minute cycle's pure steps on hand-made input: who gets the second read, and what the
scoring of the new data decides (no database: score takes only what the loads read)."""

from __future__ import annotations

import numpy as np

from analytics.columns import Columns, frozen
from analytics.lifecycle import ActiveAlert
from analytics.minute.load import MinuteInput, NewData
from analytics.minute.score import needs_context, score_new_data
from analytics.minute.windows import due_windows
from analytics.shards import ShardState
from dolbom.alerts import AlertKind, AlertStatus, Severity
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME

NOW = 1_793_581_200.0  # 2026-11-02 10:00 in Seoul
IDS = (10, 20, 30)


def new_data(readings: list[tuple[int, str, float, float]], events: list[tuple[int, str, float]]) -> NewData:
    """Windows of the last 10 minutes of IDS with these new readings (enrollee, metric, ts,
    value) and events (enrollee, type, ts; check-ins unanswered)."""
    n = len(IDS)
    return NewData(
        now=NOW,
        enrollees=tuple((e, "Asia/Seoul", {}, 1) for e in IDS),
        ids=np.array(IDS, dtype=np.int64),
        starts=np.full(n, NOW - 600),
        ends=np.full(n, NOW),
        readings=frozen(
            {
                "enrollee_id": np.array([r[0] for r in readings], dtype=np.int64),
                "device": np.array([100 + r[0] for r in readings], dtype=np.int64),
                "metric": np.array([METRIC_BY_NAME[r[1]].code for r in readings], dtype=np.int64),
                "ts": np.array([r[2] for r in readings], dtype=float),
                "value": np.array([r[3] for r in readings], dtype=float),
            }
        ),
        events=frozen(
            {
                "enrollee_id": np.array([e[0] for e in events], dtype=np.int64),
                "device": np.array([200 + e[0] for e in events], dtype=np.int64),
                "type": np.array([EVENT_CODES[e[1]] for e in events], dtype=np.int64),
                "ts": np.array([e[2] for e in events], dtype=float),
                "bathroom": np.zeros(len(events), dtype=bool),
                "answered": np.array([0.0 if e[1] == "checkin" else np.nan for e in events]),
                "mood": np.full(len(events), np.nan),
            }
        ),
        baselines=frozen(
            {key: np.zeros(0, dtype=np.int64) for key in ("enrollee_id", "metric", "bin", "n_days")}
            | {"median": np.zeros(0), "sigma": np.zeros(0)}
        ),
    )


def empty(*columns: str) -> Columns:
    return frozen({"enrollee_id": np.zeros(0, dtype=np.int64)} | {c: np.zeros(0) for c in columns})


def test_the_second_read_is_for_those_past_a_line_weighed_at_the_door_or_checked_in() -> None:
    new = new_data(
        [(10, "glucose", NOW - 60, 50.0), (20, "glucose", NOW - 60, 120.0), (20, "weight", NOW - 30, 61.0)],
        [(30, "door_open", NOW - 120), (30, "checkin", NOW - 90)],
    )
    request = needs_context(new)
    assert request.past_line.tolist() == [0]  # only enrollee 10's reading is past a line
    assert request.weighed.tolist() == [20]
    assert (request.weights_from, request.weights_until) == (NOW - 30 - 3.5 * 86400, NOW - 30 + 1)
    assert request.door_opened.tolist() == [30] and request.checked_in.tolist() == [30]
    assert request.checkins_until == NOW - 90


def test_scoring_decides_the_raise_the_snooze_and_the_state_from_the_input_alone() -> None:
    new = new_data([(10, "glucose", NOW - 60, 50.0)], [(30, "checkin", NOW - 90)])
    snoozed = ActiveAlert(
        alert_id=5,
        enrollee_id=10,
        kind=AlertKind.HYPOGLYCEMIA,
        severity=Severity.HIGH,
        status=AlertStatus.OPEN,
        last_seen_ts=NOW - 1800,
        onset_ts=NOW - 1800,
        snoozed_until_ts=NOW + 3600,
        escalated=False,
    )
    data = MinuteInput(
        new=new,
        readings=frozen({**new.readings, "wearable": np.zeros(1, dtype=bool)}),
        events=frozen({**new.events, "wearable": np.zeros(1, dtype=bool)}),
        baselines=new.baselines,
        weights=empty("ts", "value"),
        night_doors=empty("rate", "nights"),
        checkins={30: (True, False, False)},
        active=(snoozed,),
    )
    out = score_new_data(data)
    (raised,) = out.alerts.raised
    assert (raised.enrollee_id, raised.kind) == (10, AlertKind.HYPOGLYCEMIA)
    assert raised.severity == Severity.CRITICAL
    assert out.alerts.snooze_ended == (5,)  # a worse level goes through the snooze and ends it
    assert (10, AlertKind.HYPOGLYCEMIA, NOW - 60) in out.alerts.breaches
    assert out.counts == {"readings": 1, "events": 1, "alerts": 1}
    activity = out.activity
    assert activity.enrollee_ids.tolist() == [10, 30]
    assert activity.unanswered.tolist() == [0, 2] and activity.recounted.tolist() == [False, True]
    assert sorted(out.devices.device.tolist()) == [110, 230]


def test_due_windows_wait_for_data_beyond_now() -> None:
    rows = {
        "shard": np.array([3, 3, 3]),
        "id": np.array([11, 12, 13]),
        "enrollee_id": np.array([7, 8, 7]),
        "lo": np.array([NOW - 300, NOW - 200, NOW - 100]),
        "hi": np.array([NOW - 250, NOW + 600, NOW - 50]),
    }
    due = due_windows(rows, {3: ShardState(3, watermark=10)}, NOW, frontier=13, limit=100)
    assert due.windows == {7: (NOW - 300 - 1e-3, NOW - 50), 8: (NOW - 200 - 1e-3, NOW)}
    state = due.states[3]
    assert state.watermark == 11 and state.seen_max_id == 13 and state.data_time == NOW  # 12 is read again
    assert (due.queue_rows, due.truncated) == (3, 0)
