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
