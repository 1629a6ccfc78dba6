"""The SQL of ingest, in one place."""

from __future__ import annotations

from typing import Final

from ingest.critical import candidate_sql

DEVICES_COLUMNS: Final = (
    "d.id, d.device_id, d.enrollee_id, d.kind, d.room, e.region_id, e.timezone, d.removed_at"
)
DEVICES_ALL: Final = (
    f"SELECT {DEVICES_COLUMNS} FROM devices d JOIN enrollees e ON e.id = d.enrollee_id"
)
DEVICES_BY_WIRE_ID: Final = f"{DEVICES_ALL} WHERE d.device_id = ANY(%s)"

# Staging tables: COPY goes here, then one INSERT … ON CONFLICT DO NOTHING absorbs
# duplicates (redelivery after a crash, a device resending its backlog).
CREATE_STAGING: Final = """
CREATE TEMP TABLE IF NOT EXISTS _ingest_readings (
    device integer, metric smallint, ts timestamptz, value real) ON COMMIT DELETE ROWS;
"""
COPY_READINGS: Final = "COPY _ingest_readings (device, metric, ts, value) FROM STDIN (FORMAT BINARY)"
# Tried first, in a savepoint: straight into readings, ~3x faster than staging + ON CONFLICT
# when the batch holds no measurement already stored (the usual case).
COPY_READINGS_DIRECT: Final = "COPY readings (device, metric, ts, value) FROM STDIN (FORMAT BINARY)"
READINGS_TYPES: Final = ("int4", "int2", "timestamptz", "float4")

# One row per device of what was actually inserted, with the readings that could be past a
# critical line for some enrollee (the exact check is per enrollee, in Python).
_CANDIDATE: Final = candidate_sql()
INSERT_READINGS: Final = f"""
WITH ins AS (
    INSERT INTO readings (device, metric, ts, value)
    SELECT device, metric, ts, value FROM _ingest_readings
    ON CONFLICT DO NOTHING
    RETURNING device, metric, ts, value)
SELECT device, min(ts), max(ts), count(*),
       array_agg(metric) FILTER (WHERE {_CANDIDATE}),
       array_agg(ts) FILTER (WHERE {_CANDIDATE}),
       array_agg(value) FILTER (WHERE {_CANDIDATE})
FROM ins GROUP BY device
"""

# Events come as arrays in one statement (one round trip: the sos/fall fast path counts them).
INSERT_EVENTS: Final = """
WITH ins AS (
    INSERT INTO events (device, enrollee_id, type, ts, data)
    SELECT * FROM unnest(%(device)s::integer[], %(enrollee)s::integer[], %(type)s::smallint[],
                         %(ts)s::timestamptz[], %(data)s::text[]::jsonb[])
    ON CONFLICT DO NOTHING
    RETURNING device, type, ts, data)
SELECT device, min(ts), max(ts), count(*),
       array_agg(type) FILTER (WHERE type = ANY(%(urgent)s)),
       array_agg(ts) FILTER (WHERE type = ANY(%(urgent)s)),
       array_agg(data) FILTER (WHERE type = ANY(%(urgent)s))
FROM ins GROUP BY device
"""

COPY_QUARANTINE: Final = (
    "COPY quarantine (received_at, topic, device_id, reason_code, reason, payload, "
    "payload_size, payload_sha256) FROM STDIN"
)

Z2M_STATES: Final = "SELECT device, payload_sha256 FROM z2m_states WHERE device = ANY(%s)"

UPSERT_Z2M_STATES: Final = """
INSERT INTO z2m_states (device, payload_sha256, received_at)
SELECT * FROM unnest(%s::integer[], %s::bytea[], %s::timestamptz[])
ON CONFLICT (device) DO UPDATE SET
    payload_sha256 = excluded.payload_sha256, received_at = excluded.received_at
WHERE z2m_states.received_at <= excluded.received_at
"""

INSERT_SCORING_QUEUE: Final = """
INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max)
SELECT * FROM unnest(%s::integer[], %s::timestamptz[], %s::timestamptz[])
"""

# Device state: last seen from any message; battery and online from the newest status.
UPDATE_DEVICES: Final = """
UPDATE devices d SET
    last_seen = greatest(d.last_seen, v.last_seen),
    battery = CASE WHEN v.battery IS NOT NULL
                    AND v.status_at >= coalesce(d.status_at, '-infinity')
                   THEN v.battery ELSE d.battery END,
    online = CASE WHEN v.online IS NOT NULL
                   AND v.status_at >= coalesce(d.status_at, '-infinity')
                  THEN v.online ELSE d.online END,
    status_at = greatest(d.status_at, v.status_at)
FROM unnest(%s::integer[], %s::timestamptz[], %s::smallint[], %s::boolean[],
            %s::timestamptz[]) AS v(id, last_seen, battery, online, status_at)
WHERE d.id = v.id
"""

ADD_COUNTER: Final = "UPDATE counters SET value = value + %s WHERE name = %s"

ENROLLEE_THRESHOLDS: Final = "SELECT id, thresholds FROM enrollees WHERE id = ANY(%s)"

# For each (enrollee, kind) group of a batch at once: the distinct reading times past the
# kind's lines on the enrollee's devices within the kind's confirmation window. One row per
# group, device and metric of the kind, with the enrollee's effective line, its comparison
# (critical.SQL_OP's names) and the window bound as parameters; lines are compared as
# float8, as the literals of the per-group query this replaces were.
CONFIRMING_READINGS: Final = """
SELECT g.grp, count(DISTINCT r.ts)
FROM unnest(%s::integer[], %s::integer[], %s::smallint[], %s::text[], %s::float8[],
            %s::timestamptz[], %s::timestamptz[])
     AS g(grp, device, metric, comparison, line, since, until)
JOIN readings r ON r.device = g.device AND r.metric = g.metric
               AND r.ts BETWEEN g.since AND g.until
WHERE CASE g.comparison WHEN 'ge' THEN r.value >= g.line WHEN 'gt' THEN r.value > g.line
                        WHEN 'le' THEN r.value <= g.line WHEN 'lt' THEN r.value < g.line END
GROUP BY g.grp
"""

# The systolic/diastolic pair measured together with a crisis reading (for the summary).
BP_PAIR: Final = (
    "SELECT metric, value FROM readings WHERE device = %s AND ts = %s AND metric IN (4, 5)"
)
