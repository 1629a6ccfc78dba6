"""The clock's SQL pre-selection (analytics/queries/clock.py) holds every enrollee and device
the pure clock checks (analytics/detectors/clock.py) would flag: on a fixture of states on
both sides of every check's line, the checks run over everyone flag no one the selection
leaves out. Both take their lines from the same constants (``detectors.clock.reach``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import psycopg

from analytics.detectors import clock
from analytics.detectors.context import utc_offset_s
from analytics.queries import clock as clock_queries
from analytics.queries.people import save_person_models
from analytics.shards import N_SHARDS
from dolbom.timeutil import utc
from tests.factories import make_device, make_enrollee, make_region

NOW = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # 14:00 in Seoul: waking hours
PEOPLE = 240
HOUR = 3600.0


def _maybe(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """``values`` with about ``share`` of them never seen (NaN)."""
    return np.where(rng.random(values.size) < share, np.nan, values)


def _ts(value: float) -> datetime | None:
    return None if np.isnan(value) else utc(value)


def test_the_clock_selection_holds_everyone_the_checks_flag(db: psycopg.Connection) -> None:
    rng = np.random.default_rng(13)
    now = NOW.timestamp()
    region = make_region(db)
    ids = np.array([make_enrollee(db, region) for _ in range(PEOPLE)], dtype=np.int64)
    n = ids.size
    # everyone safe on every line but one, their role's, which they straddle: inactivity
    # (3-4.5 h), no data (16 h), check-ins (2 in a row, 74 h), reported offline (15 min), a
    # wearable silent (6 h), battery (15 %); the last role is safe on all of them
    role = np.arange(n) % 8
    last_activity = np.round(now - rng.uniform(0, 1, n) * HOUR)
    last_data = np.round(now - rng.uniform(0, 0.5, n) * HOUR)
    last_door = np.full(n, np.nan)
    last_checkin = np.round(now - rng.uniform(0, 20, n) * HOUR)
    last_answered = last_checkin.copy()
    unanswered = np.zeros(n, dtype=np.int64)
    online = np.ones(n)
    status_ts = np.full(n, now - HOUR)
    battery = np.full(n, 80.0)
    wearable_last = np.round(now - rng.uniform(0, 1, n) * HOUR)
    gap_p90_h = _maybe(rng, rng.uniform(1.0, 3.0, n), 0.5)

    def straddle(who: np.ndarray, low: float, high: float) -> np.ndarray:
        return np.round(now - rng.uniform(low, high, int(who.sum())) * HOUR)

    r = role == 0
    last_activity[r] = straddle(r, 2.5, 5.0)
    last_door[r] = np.where(rng.random(int(r.sum())) < 0.2, last_activity[r], np.nan)  # some went out
    r = role == 1
    last_activity[r], last_data[r] = np.nan, straddle(r, 15.0, 17.0)
    r = role == 2
    unanswered[r] = rng.integers(1, 4, int(r.sum()))
    last_answered[r] = last_checkin[r] - 2 * 86400.0
    r = role == 3
    last_checkin[r] = straddle(r, 70.0, 78.0)
    last_answered[r] = np.where(rng.random(int(r.sum())) < 0.5, np.nan, last_checkin[r])
    r = role == 4
    online[r], status_ts[r] = 0.0, np.round(now - rng.uniform(5, 30, int(r.sum())) * 60)
    r = role == 5
    wearable_last[r] = straddle(r, 5.0, 7.0)
    r = role == 6
    battery[r] = np.round(rng.uniform(3, 30, int(r.sum())))
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO analytics_activity (enrollee_id, last_data_ts, last_activity_ts, last_door_ts, "
            "last_checkin_ts, last_answered_ts, unanswered_in_row) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (int(e), _ts(d), _ts(a), _ts(door), _ts(c), _ts(ans), int(u))
                for e, d, a, door, c, ans, u in zip(
                    ids,
                    last_data,
                    last_activity,
                    last_door,
                    last_checkin,
                    last_answered,
                    unanswered,
                    strict=True,
                )
            ],
        )
    profiles = [
        (int(e), "robust_mahalanobis", {"gap_p90_h": float(g)}, 20)
        for e, g in zip(ids, gap_p90_h, strict=True)
        if np.isfinite(g)
    ]
    save_person_models(db, profiles, NOW)
    # the kit: a wearable (battery, status, last data), a motion sensor and a speaker each
    bands = [make_device(db, int(e), "wearable") for e in ids]
    wearable = np.array([band[0] for band in bands], dtype=np.int64)
    names = [band[1] for band in bands]
    for e in ids:
        make_device(db, int(e), "motion_sensor", room="living")
        make_device(db, int(e), "ai_speaker", room="living")
    with db.cursor() as cur:
        cur.executemany(
            "UPDATE devices SET online = %s, status_at = %s, battery = %s WHERE id = %s",
            [
                (None if np.isnan(o) else bool(o), utc(s), None if np.isnan(b) else int(b), int(d))
                for o, s, b, d in zip(online, status_ts, battery, wearable, strict=True)
            ],
        )
        cur.executemany(
            "INSERT INTO analytics_device_seen (device, last_ts) VALUES (%s, %s)",
            [(int(d), utc(t)) for d, t in zip(wearable, wearable_last, strict=True)],
        )
        cur.executemany(
            "INSERT INTO analytics_wearable_seen (device, last_hour) "
            "VALUES (%s, date_bin('1 hour', %s::timestamptz, timestamptz 'epoch'))",
            [(int(d), utc(t)) for d, t in zip(wearable, wearable_last, strict=True)],
        )

    # the pure checks over everybody (every kit flag on: as many ways to fire as there are)
    every = np.ones(n, dtype=bool)
    state = clock.ActivityState(
        enrollee_id=ids,
        utc_offset_s=np.full(n, utc_offset_s("Asia/Seoul", NOW)),
        has_home_sensors=every,
        has_speaker=every,
        has_continuous=every,
        last_data_ts=last_data,
        last_activity_ts=last_activity,
        last_door_ts=last_door,
        last_checkin_ts=last_checkin,
        last_answered_ts=last_answered,
        unanswered_in_row=unanswered,
        wake_h=np.full(n, np.nan),
        sleep_h=np.full(n, np.nan),
        gap_p90_h=gap_p90_h,
    )
    devices = clock.DeviceState(
        enrollee=np.arange(n),
        device_id=names,
        kind=["wearable"] * n,
        online=online,
        status_ts=status_ts,
        battery=battery,
        last_ts=wearable_last,
    )
    flagged: dict[str, set[int]] = {}
    for kind, check in (("inactivity", clock.inactivity), ("no_data", clock.no_data),
                        ("missed_checkins", clock.missed_checkins)):
        flagged[kind] = {f.enrollee_id for f in check(state, now)[0]}
    offline, low, _, _ = clock.devices(devices, state, now)
    flagged["device_offline"] = {f.enrollee_id for f in offline}
    flagged["low_battery"] = {f.enrollee_id for f in low}
    flagged_devices = {d["device_id"] for f in [*offline, *low] for d in f.evidence["devices"]}

    _, found = clock_queries.clock_enrollees(db, list(range(N_SHARDS)), now)
    selected = set(found["enrollee_id"].tolist())
    for kind, who in flagged.items():
        assert who, f"the fixture never fires {kind}"
        assert who <= selected, f"{kind} flags {sorted(who - selected)} whom the selection leaves out"
    assert not selected & set(ids[role == 7].tolist())  # and it selects: the safe are left out
    rows = clock_queries.clock_devices(db, list(range(N_SHARDS)), now, sorted(selected))
    assert flagged_devices <= {str(r[1]) for r in rows}
