"""SQL of the worklist: the whole caseload's facts in one statement (after one that reads the
region's timezone and the caseload's zones). ``{scope}`` is the caller's predicate on ``e``.

Each enrollee's day and window come from Python per timezone (``zones``: the local day's
bounds, the instant the day is judged at, whether that is now), so a person's days are their
own local days whatever their zone. Per enrollee, by index only:
- open alerts: ``alerts_one_active_idx`` (a past day also reads the alerts resolved since,
  by ``alerts_enrollee_idx``);
- each measurement the conditions call for: the newest reading of that metric from each
  device of the kind that takes it, by ``readings_device_metric_ts_key`` backwards, in the
  lookback's one to three weekly partitions (pruned at run time);
- no data: ``devices.last_seen`` of the kit (the newest receipt, written by ingest);
- follow-up: the newest contact that set one (``contacts_follow_up_idx``) and whether a
  contact came on or after its day (``contacts_enrollee_at_idx``).
"""

from __future__ import annotations

from typing import Final

# The region's timezone, and the distinct timezones of the caseload.
REGION: Final = """
SELECT r.timezone,
       ARRAY(SELECT DISTINCT e.timezone FROM enrollees e
             WHERE e.region_id = r.id AND e.active AND {scope}
               AND (%(care_worker_id)s::int IS NULL OR e.care_worker_id = %(care_worker_id)s)) AS zones
FROM regions r WHERE r.id = %(region_id)s
"""

# A statement of its own (the audit insert goes in front: api.audit.service.audited).
FACTS: Final = """
SELECT * FROM (
WITH zones AS (
    SELECT * FROM unnest(%(zone_names)s::text[], %(zone_keys)s::text[],
                         %(day_starts)s::timestamptz[], %(day_ends)s::timestamptz[],
                         %(lookbacks)s::timestamptz[], %(as_ofs)s::timestamptz[],
                         %(untils)s::timestamptz[], %(lives)s::boolean[])
        AS z(name, zone, day_start, day_end, lookback, as_of, until, live)
), needs AS (
    SELECT * FROM unnest(%(need_conditions)s::text[], %(need_metrics)s::smallint[],
                         %(need_kinds)s::text[]) AS n(condition, metric, kind)
), people AS MATERIALIZED (
    SELECT e.id, e.conditions, z.*
    FROM enrollees e JOIN zones z ON z.name = e.timezone
    WHERE {scope} AND e.active AND e.region_id = %(region_id)s
      AND (%(care_worker_id)s::int IS NULL OR e.care_worker_id = %(care_worker_id)s)
), facts AS MATERIALIZED (
    SELECT p.id AS enrollee_id, p.name AS timezone,
        (SELECT jsonb_agg(jsonb_build_object('id', o.id, 'kind', o.kind, 'severity', o.severity,
                                             'status', o.status, 'opened_at', o.opened_at)
                          ORDER BY o.id)
         FROM (SELECT a.id, a.kind, a.severity, a.status, a.opened_at FROM alerts a
               WHERE a.enrollee_id = p.id AND a.status <> 'resolved'
                 AND (p.live OR a.opened_at <= p.as_of)
               UNION ALL  -- a past day: the alerts open then, resolved since
               SELECT a.id, a.kind, a.severity, a.status, a.opened_at FROM alerts a
               WHERE NOT p.live AND a.enrollee_id = p.id AND a.status = 'resolved'
                 AND a.opened_at <= p.as_of AND a.resolved_at > p.as_of) o) AS alerts,
        (SELECT jsonb_agg(jsonb_build_object('metric', n.metric, 'last_at', m.last_at)
                          ORDER BY n.metric)
         FROM needs n
         CROSS JOIN LATERAL (
             SELECT bool_or(d.created_at <= p.day_start
                            AND (d.removed_at IS NULL OR d.removed_at > p.as_of)) AS kit,
                    max(r.ts) AS last_at
             FROM devices d
             LEFT JOIN LATERAL (
                 SELECT r.ts FROM readings r
                 WHERE r.device = d.id AND r.metric = n.metric
                   AND r.ts >= p.lookback AND r.ts < p.day_end
                 ORDER BY r.ts DESC LIMIT 1) r ON true
             WHERE d.enrollee_id = p.id AND d.kind = n.kind) m
         WHERE n.condition = ANY(p.conditions) AND m.kit
           AND (m.last_at IS NULL OR m.last_at < p.day_start)) AS missing,
        k.last_seen, coalesce(k.reporting, false) AS reporting,
        f.id AS follow_contact_id, f.follow_up, f.channel AS follow_channel, f.at AS follow_at,
        p.live
    FROM people p
    LEFT JOIN LATERAL (
        SELECT max(d.last_seen) AS last_seen,
               bool_or(d.kind = ANY(%(reporting_kinds)s::text[])) AS reporting
        FROM devices d WHERE d.enrollee_id = p.id AND d.removed_at IS NULL) k ON p.live
    LEFT JOIN LATERAL (
        SELECT c.id, c.follow_up, c.channel, c.at FROM contacts c
        WHERE c.enrollee_id = p.id AND c.follow_up IS NOT NULL AND c.at <= p.until
        ORDER BY c.at DESC, c.id DESC LIMIT 1) f
      ON f.follow_up <= %(day)s AND NOT EXISTS (
        SELECT 1 FROM contacts c2
        WHERE c2.enrollee_id = p.id AND c2.at >= (f.follow_up::timestamp AT TIME ZONE p.zone)
          AND (c2.at, c2.id) > (f.at, f.id) AND c2.at <= p.until)
)
SELECT * FROM facts
WHERE alerts IS NOT NULL OR missing IS NOT NULL OR follow_contact_id IS NOT NULL
   OR (reporting AND last_seen < %(silent_before)s)
) worklist
ORDER BY enrollee_id
"""
