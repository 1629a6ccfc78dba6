"""SQL of the web app's region page and alert history ({scope}: the caller's predicate)."""

from __future__ import annotations

from typing import Final

from dolbom.rules import DEVICE_OFFLINE_AFTER_S, HOME_ACTIVE_WITHIN_S, WEARABLE_SILENT_H

# dolbom.rules.device_offline over the devices row ``d`` at %(now)s, as device_row_offline
# reads it: said offline (online false) since its newest status for DEVICE_OFFLINE_AFTER_S,
# or a wearable silent (last_seen) past WEARABLE_SILENT_H while some device of the same
# enrollee was seen within HOME_ACTIVE_WITHIN_S. Never NULL. tests/test_rules_agree.py runs
# it against the rule, case by case.
DEVICE_OFFLINE: Final = f"""coalesce(
    (d.online IS FALSE AND d.status_at <= %(now)s - make_interval(secs => {float(DEVICE_OFFLINE_AFTER_S)!r}))
    OR (d.kind = 'wearable'
        AND d.last_seen < %(now)s - make_interval(secs => {WEARABLE_SILENT_H * 3600.0!r})
        AND (SELECT max(h.last_seen) FROM devices h
             WHERE h.enrollee_id = d.enrollee_id AND h.removed_at IS NULL)
            > %(now)s - make_interval(secs => {float(HOME_ACTIVE_WITHIN_S)!r})),
    false)"""

REGION: Final = "SELECT id, name, timezone FROM regions WHERE id = %(region_id)s AND {scope}"

REGION_ENROLLEES: Final = """
SELECT e.id, e.name, e.birth_year, e.sex, u.username AS care_worker,
       count(a.id) FILTER (WHERE a.status <> 'resolved') AS open_alerts,
       count(a.id) FILTER (WHERE a.status <> 'resolved' AND a.severity = 'critical') AS critical,
       (SELECT count(*) FROM devices d WHERE d.enrollee_id = e.id AND d.removed_at IS NULL
          AND """ + DEVICE_OFFLINE + """) AS devices_offline
FROM enrollees e
LEFT JOIN users u ON u.id = e.care_worker_id
LEFT JOIN alerts a ON a.enrollee_id = e.id AND a.status <> 'resolved'
WHERE e.region_id = %(region_id)s AND e.active
GROUP BY e.id, u.username
ORDER BY critical DESC, open_alerts DESC, e.name
LIMIT 2000
"""

REGION_OFFLINE_DEVICES: Final = """
SELECT d.device_id, d.kind, d.room, d.last_seen, d.battery, e.id AS enrollee_id, e.name
FROM devices d JOIN enrollees e ON e.id = d.enrollee_id
WHERE e.region_id = %(region_id)s AND d.removed_at IS NULL AND """ + DEVICE_OFFLINE + """
ORDER BY d.last_seen NULLS FIRST
LIMIT 500
"""

ALERT_HISTORY: Final = """
SELECT a.id, a.kind, a.severity, a.status, a.summary, a.opened_at, a.resolved_at, a.outcome
FROM alerts a WHERE a.enrollee_id = %s ORDER BY a.opened_at DESC LIMIT 100
"""

CARE_WORKER_NAME: Final = "SELECT username, display_name FROM users WHERE id = %s"

# --- the enrollee page's timeline (issue 14): alerts, what people and the system did about
# them, and key events, over the page's window; contacts come from api.contacts.service.

TIMELINE_ALERTS: Final = """
SELECT a.id, a.kind, a.severity, a.status, a.summary, a.evidence, a.opened_at, a.outcome
FROM alerts a
WHERE a.enrollee_id = %(enrollee_id)s AND a.opened_at >= %(from)s AND a.opened_at < %(to)s
ORDER BY a.opened_at DESC, a.id DESC
LIMIT %(limit)s
"""

# Acknowledge, resolve, snooze, escalate and the system's auto-resolve of the enrollee's
# alerts, with who did it (NULL: the system); "open" and "update" are the alert itself.
TIMELINE_ACTIONS: Final = """
SELECT x.alert_id, a.kind, x.action, x.at, x.note, x.outcome, u.username
FROM alert_actions x
JOIN alerts a ON a.id = x.alert_id
LEFT JOIN users u ON u.id = x.user_id
WHERE a.enrollee_id = %(enrollee_id)s AND x.at >= %(from)s AND x.at < %(to)s
  AND x.action NOT IN ('open', 'update')
ORDER BY x.at DESC, x.id DESC
LIMIT %(limit)s
"""

# Key events: every fall, SOS and missed medication, and a door opened in the night hours
# of the enrollee's zone (%(tz)s, already resolved by dolbom.rules.enrollee_zone).
TIMELINE_EVENTS: Final = """
SELECT ev.ts, ev.type, d.kind AS device_kind, d.room
FROM events ev JOIN devices d ON d.id = ev.device
WHERE ev.enrollee_id = %(enrollee_id)s AND ev.ts >= %(from)s AND ev.ts < %(to)s
  AND (ev.type = ANY(%(types)s::smallint[])
       OR (ev.type = %(door)s
           AND extract(hour FROM ev.ts AT TIME ZONE %(tz)s) >= %(night_from)s
           AND extract(hour FROM ev.ts AT TIME ZONE %(tz)s) < %(night_to)s))
ORDER BY ev.ts DESC
LIMIT %(limit)s
"""

# --- the inbox (issue 14): the enrollee filter's choices ({scope}: the caller's predicate).

INBOX_ENROLLEES: Final = """
SELECT e.id, e.name FROM enrollees e
WHERE {scope} AND e.active
ORDER BY e.name, e.id
LIMIT %(limit)s
"""

# --- the caseload ("My enrollees", issue 14): the caller's enrollees at a glance, in one
# statement after one that reads their timezones ({scope}: the caller's predicate on ``e``).
# Per enrollee, by index only: for each measurement that matters (``needs``: the conditions'
# measurements of dolbom.rules.CONDITION_MEASUREMENTS, shown for whoever has the condition or
# the device that takes it) the newest reading within %(since)s from each device of that
# kind, backwards on readings (device, metric, ts), and for blood pressure the diastolic of
# the same measurement; the steps since the start of their local day (``zones``, from
# Python: dolbom.rules.enrollee_zone); open alerts (alerts_one_active_idx) with the worst
# severity (its position in %(severities)s, worst first); the newest contact
# (contacts_enrollee_at_idx).

CASELOAD_ZONES: Final = """
SELECT DISTINCT e.timezone FROM enrollees e
WHERE {scope} AND e.active AND (%(region_id)s::int IS NULL OR e.region_id = %(region_id)s)
"""

CASELOAD: Final = """
WITH zones AS (
    SELECT * FROM unnest(%(zone_names)s::text[], %(today_starts)s::timestamptz[]) AS z(name, today_start)
), needs AS (
    SELECT * FROM unnest(%(need_conditions)s::text[], %(need_metrics)s::smallint[],
                         %(need_kinds)s::text[]) AS n(condition, metric, kind)
)
SELECT e.id, e.name, e.birth_year, e.sex, e.phone, e.timezone, e.conditions, e.region_id,
       r.name AS region_name, u.username AS care_worker,
       (SELECT jsonb_agg(jsonb_build_object(
                   'metric', n.metric, 'needed', n.condition = ANY(e.conditions),
                   'ts', m.ts, 'value', m.value, 'diastolic', m.diastolic) ORDER BY n.condition)
        FROM needs n
        LEFT JOIN LATERAL (
            SELECT last.ts, last.value,
                   CASE WHEN n.metric = %(systolic)s THEN (
                       SELECT dia.value FROM readings dia
                       WHERE dia.device = last.device AND dia.metric = %(diastolic)s
                         AND dia.ts = last.ts) END AS diastolic
            FROM devices d
            CROSS JOIN LATERAL (
                SELECT x.device, x.ts, x.value FROM readings x
                WHERE x.device = d.id AND x.metric = n.metric AND x.ts >= %(since)s
                ORDER BY x.ts DESC LIMIT 1) last
            WHERE d.enrollee_id = e.id AND d.kind = n.kind
            ORDER BY last.ts DESC LIMIT 1) m ON true
        WHERE n.condition = ANY(e.conditions)
           OR EXISTS (SELECT 1 FROM devices d WHERE d.enrollee_id = e.id AND d.kind = n.kind
                        AND d.removed_at IS NULL)) AS readings,
       EXISTS (SELECT 1 FROM devices d WHERE d.enrollee_id = e.id AND d.kind = 'wearable'
                 AND d.removed_at IS NULL) AS has_wearable,
       (SELECT sum(s.value) FROM devices d JOIN readings s ON s.device = d.id
        WHERE d.enrollee_id = e.id AND s.metric = %(steps)s AND s.ts >= z.today_start) AS steps_today,
       z.today_start,
       a.open_alerts, (%(severities)s::text[])[a.worst] AS worst_severity,
       c.channel AS contact_channel, c.at AS contact_at, c.username AS contact_by
FROM enrollees e
JOIN zones z ON z.name = e.timezone
JOIN regions r ON r.id = e.region_id
LEFT JOIN users u ON u.id = e.care_worker_id
LEFT JOIN LATERAL (
    SELECT count(*) AS open_alerts, min(array_position(%(severities)s::text[], al.severity)) AS worst
    FROM alerts al WHERE al.enrollee_id = e.id AND al.status <> 'resolved') a ON true
LEFT JOIN LATERAL (
    SELECT ct.channel, ct.at, cu.username FROM contacts ct LEFT JOIN users cu ON cu.id = ct.user_id
    WHERE ct.enrollee_id = e.id ORDER BY ct.at DESC, ct.id DESC LIMIT 1) c ON true
WHERE {scope} AND e.active
  AND (%(region_id)s::int IS NULL OR e.region_id = %(region_id)s)
  AND (%(name)s::text IS NULL OR e.name ILIKE %(name)s ESCAPE '\\')
ORDER BY e.name, e.id
LIMIT %(limit)s
"""

# The regions an admin picks from (region_scope on ``id``), with their active enrollees.
REGIONS: Final = """
SELECT r.id, r.name, r.timezone,
       (SELECT count(*) FROM enrollees e WHERE e.region_id = r.id AND e.active) AS enrollees
FROM regions r WHERE {scope}
ORDER BY r.name, r.id
"""

# --- the worklist page (issue 14): who the items of api.worklist.service are, how to call
# them, and their newest contact (to show an item already done today).
WORKLIST_PEOPLE: Final = """
SELECT e.id, e.name, e.birth_year, e.sex, e.phone, e.timezone,
       c.channel AS contact_channel, c.at AS contact_at
FROM enrollees e
LEFT JOIN LATERAL (
    SELECT ct.channel, ct.at FROM contacts ct
    WHERE ct.enrollee_id = e.id ORDER BY ct.at DESC, ct.id DESC LIMIT 1) c ON true
WHERE e.id = ANY(%(enrollee_ids)s::int[]) AND {scope}
"""
