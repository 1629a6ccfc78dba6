"""SQL of readings and events of one enrollee (its devices, past and present)."""

from __future__ import annotations

from typing import Final

DEVICES_OF: Final = "SELECT id FROM devices WHERE enrollee_id = %s"

# Visibility ({scope}: the caller's predicate on ``e``), timezone and devices in one trip.
ENROLLEE_DEVICES: Final = """
SELECT e.timezone, ARRAY(SELECT d.id FROM devices d WHERE d.enrollee_id = e.id) AS devices
FROM enrollees e WHERE e.id = %(enrollee_id)s AND {scope}
"""

RAW: Final = """
SELECT r.ts, r.metric, r.value, d.device_id, r.device
FROM readings r JOIN devices d ON d.id = r.device
WHERE r.device = ANY(%(devices)s)
  AND (%(metric)s::smallint IS NULL OR r.metric = %(metric)s)
  AND r.ts >= %(from)s AND r.ts < %(to)s
  AND (%(after_ts)s::timestamptz IS NULL
       OR (r.ts, r.device, r.metric) > (%(after_ts)s, %(after_device)s, %(after_metric)s))
ORDER BY r.ts, r.device, r.metric
LIMIT %(limit)s
"""

# Buckets aligned on local midnight of the enrollee's timezone, so 1d buckets are their days.
BUCKETS: Final = """
SELECT date_bin(%(width)s, r.ts, (timestamp '2000-01-01' AT TIME ZONE %(tz)s)) AS bucket_start,
       count(*) AS count, min(r.value) AS min, avg(r.value) AS avg, max(r.value) AS max
FROM readings r
WHERE r.device = ANY(%(devices)s) AND r.metric = %(metric)s
  AND r.ts >= %(from)s AND r.ts < %(to)s
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s
"""

# The same buckets from the hourly rollup (TimescaleDB continuous aggregate, migration 0003);
# used only when every bucket is a union of whole hours (service._bucket_query).
BUCKETS_HOURLY: Final = """
SELECT date_bin(%(width)s, h.bucket, (timestamp '2000-01-01' AT TIME ZONE %(tz)s)) AS bucket_start,
       sum(h.n)::bigint AS count, min(h.vmin) AS min, sum(h.vsum) / sum(h.n) AS avg, max(h.vmax) AS max
FROM readings_hourly h
WHERE h.device = ANY(%(devices)s) AND h.metric = %(metric)s
  AND h.bucket >= %(from)s AND h.bucket < %(to)s
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s
"""

HOURLY_ROLLUP: Final = "SELECT detail->>'rollup' AS rollup FROM job_state WHERE job = 'storage'"

# The person's usual range of a metric: 10th to 90th percentile of their own readings.
BASELINE: Final = """
SELECT percentile_cont(0.1) WITHIN GROUP (ORDER BY r.value) AS p10,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.value) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.value) AS p90,
       count(*) AS n
FROM readings r
WHERE r.device = ANY(%(devices)s) AND r.metric = %(metric)s AND r.ts >= %(from)s AND r.ts < %(to)s
"""

METRICS_PRESENT: Final = """
SELECT DISTINCT r.metric FROM readings r
WHERE r.device = ANY(%(devices)s) AND r.ts >= %(from)s AND r.ts < %(to)s
"""

EVENTS: Final = """
SELECT ev.ts, ev.type, ev.device, d.device_id, ev.data
FROM events ev JOIN devices d ON d.id = ev.device
WHERE ev.enrollee_id = %(enrollee_id)s
  AND (%(type)s::smallint IS NULL OR ev.type = %(type)s)
  AND ev.ts >= %(from)s AND ev.ts < %(to)s
  AND (%(after_ts)s::timestamptz IS NULL
       OR (ev.ts, ev.device, ev.type) > (%(after_ts)s, %(after_device)s, %(after_type)s))
ORDER BY ev.ts, ev.device, ev.type
LIMIT %(limit)s
"""

# Activity by local day and hour: motion-type events, and steps.
MOTION_BY_HOUR: Final = """
SELECT (ev.ts AT TIME ZONE %(tz)s)::date AS day,
       extract(hour FROM ev.ts AT TIME ZONE %(tz)s)::int AS hour, count(*) AS n
FROM events ev
WHERE ev.enrollee_id = %(enrollee_id)s AND ev.type = ANY(%(types)s)
  AND ev.ts >= %(from)s AND ev.ts < %(to)s
GROUP BY 1, 2
"""

STEPS_BY_HOUR: Final = """
SELECT (r.ts AT TIME ZONE %(tz)s)::date AS day,
       extract(hour FROM r.ts AT TIME ZONE %(tz)s)::int AS hour, sum(r.value) AS n
FROM readings r
WHERE r.device = ANY(%(devices)s) AND r.metric = %(metric)s
  AND r.ts >= %(from)s AND r.ts < %(to)s
GROUP BY 1, 2
"""
