"""Benchmark: the regional report of 1,000 enrollees × 30 days (issue 7 target: < 10 s).

Creates its own database, fills it server-side (INSERT … SELECT generate_series: a band
with heart rate every 5 min and steps every 15 min from 07:00 to 21:00, BP twice a day,
glucose twice a day for diabetics, nightly sleep, motion every hour, a daily check-in, ~3
alerts per enrollee; steps and sleep also for the previous month), then times the report
and, as the baseline measured in the same run, a plain ``count(*)`` scan of the same readings
window. Drops the database at the end. Run: ``python -m bench reports``.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from reports.period import parse_period
from reports.render import regional_csv
from reports.service import regional_report
from store.migrate import migrate
from store.partitions import ensure_partitions

ADMIN_URL = os.environ.get("DOLBOM_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENROLLEES = int(os.environ.get("DOLBOM_BENCH_ENROLLEES", "1000"))
PERIOD = "2026-09"
TARGET_S = 10.0
TZ = "Asia/Seoul"

FILL = """
INSERT INTO regions (name) VALUES ('bench region');
INSERT INTO enrollees (region_id, name, birth_year, sex, conditions, enrolled_at)
SELECT 1, '대상자 ' || g, 1935 + g % 15, CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END,
       CASE WHEN g % 5 < 2 THEN ARRAY['hypertension', 'diabetes'] ELSE ARRAY['hypertension'] END,
       '2026-01-01'
FROM generate_series(1, {n}) g;
INSERT INTO devices (device_id, enrollee_id, kind, last_seen, battery, online)
SELECT k || '-' || e.id, e.id, k, '2026-10-01 09:00+09'::timestamptz - (e.id % 7) * interval '10 hours',
       (e.id * 37) % 100, true
FROM enrollees e, unnest(ARRAY['wearable', 'bp_monitor', 'glucometer', 'ai_speaker', 'motion_sensor']) k
WHERE k <> 'glucometer' OR 'diabetes' = ANY(e.conditions);
"""

READINGS = [
    # heart rate every 5 min, 07-21 local, September
    """INSERT INTO readings SELECT d.id, 1, t, 60 + (d.id * 7 + extract(epoch FROM t)::bigint / 300) % 30
       FROM devices d, generate_series('2026-09-01 00:00+09'::timestamptz, '2026-09-30 23:55+09', '5 min') t
       WHERE d.kind = 'wearable' AND extract(hour FROM t AT TIME ZONE 'Asia/Seoul') BETWEEN 7 AND 20""",
    # steps every 15 min, 07-21 local, August and September
    """INSERT INTO readings SELECT d.id, 9, t, (d.id * 13 + extract(epoch FROM t)::bigint / 900) % 400
       FROM devices d, generate_series('2026-08-01 00:00+09'::timestamptz, '2026-09-30 23:45+09', '15 min') t
       WHERE d.kind = 'wearable' AND extract(hour FROM t AT TIME ZONE 'Asia/Seoul') BETWEEN 7 AND 20""",
    # sleep each morning, August and September
    """INSERT INTO readings SELECT d.id, 10, t, 300 + (d.id * 11 + extract(day FROM t)::int * 17) % 180
       FROM devices d, generate_series('2026-08-01 07:00+09'::timestamptz, '2026-09-30 07:00+09', '1 day') t
       WHERE d.kind = 'wearable'""",
    # BP at 08:00 and 20:00 on most days
    """INSERT INTO readings SELECT d.id, m, t, CASE m WHEN 4 THEN 115 + (d.id + extract(day FROM t)::int) % 40
                                               ELSE 70 + (d.id + extract(day FROM t)::int) % 25 END
       FROM devices d, generate_series('2026-09-01 08:00+09'::timestamptz,
                                       '2026-09-30 20:00+09', '12 hours') t,
            unnest(ARRAY[4, 5]) m
       WHERE d.kind = 'bp_monitor' AND (d.id + extract(day FROM t)::int) % 4 <> 0""",
    # glucose before breakfast and dinner
    """INSERT INTO readings SELECT d.id, 6, t, 60 + (d.id * 5 + extract(day FROM t)::int * 23) % 180
       FROM devices d, generate_series('2026-09-01 07:30+09'::timestamptz,
                                       '2026-09-30 18:30+09', '11 hours') t
       WHERE d.kind = 'glucometer'""",
]
EVENTS = [
    """INSERT INTO events SELECT d.id, d.enrollee_id, 3, t, '{"occupancy": true}'
       FROM devices d, generate_series('2026-09-01 00:10+09'::timestamptz, '2026-09-30 23:10+09', '1 hour') t
       WHERE d.kind = 'motion_sensor'""",
    """INSERT INTO events SELECT d.id, d.enrollee_id, 8, t,
              jsonb_build_object('answered', (d.id + extract(day FROM t)::int) % 5 <> 0, 'mood', 3)
       FROM devices d, generate_series('2026-09-01 10:00+09'::timestamptz, '2026-09-30 10:00+09', '1 day') t
       WHERE d.kind = 'ai_speaker'""",
]
ALERTS = """
INSERT INTO alerts (enrollee_id, kind, severity, status, summary, onset_at, last_seen_at, opened_at,
                    acknowledged_at, resolved_at, outcome)
SELECT e.id, (ARRAY['fall', 'inactivity', 'hypertensive_crisis', 'low_battery'])[1 + k],
       (ARRAY['critical', 'high', 'critical', 'low'])[1 + k], 'resolved', 'bench',
       o, o, o, o + (5 + e.id % 40) * interval '1 minute', o + (60 + e.id % 200) * interval '1 minute',
       CASE WHEN e.id % 4 = 0 THEN 'false_alarm' ELSE 'visited' END
FROM enrollees e, generate_series(0, 2) k,
     LATERAL (SELECT '2026-09-02 09:00+09'::timestamptz
                     + ((e.id * 7 + k * 9) % 27) * interval '1 day') AS x(o);
"""


def _url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


def _fill(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_partitions(conn, datetime(2026, 7, 20, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC))
        conn.execute(FILL.format(n=int(ENROLLEES)))  # type: ignore[arg-type]
        for statement in (*READINGS, *EVENTS, ALERTS):
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT count(*) FROM readings").fetchone()
        return int(row[0]) if row else 0


def main() -> int:
    name = f"dolbom_bench_reports_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url(name)
    try:
        migrate(url)
        started = time.perf_counter()
        readings = _fill(url)
        print(f"filled {ENROLLEES} enrollees, {readings:,} readings in {time.perf_counter() - started:.0f} s")
        period = parse_period(PERIOD)
        as_of = datetime(2026, 10, 5, tzinfo=UTC)
        with psycopg.connect(url, autocommit=True) as conn:
            since = datetime.combine(period.previous().start, datetime.min.time(), tzinfo=UTC)
            until = datetime.combine(period.end, datetime.min.time(), tzinfo=UTC)
            baselines, reports, renders = [], [], []
            for _ in range(2):  # best of two, after one warm-up of the caches
                t0 = time.perf_counter()
                conn.execute("SELECT count(*) FROM readings WHERE ts >= %s AND ts < %s", (since, until))
                baselines.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = regional_report(conn, 1, period, as_of=as_of)
                reports.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                from reports.pdf import regional_pdf

                regional_pdf(report)
                regional_csv(report)
                renders.append(time.perf_counter() - t0)
        baseline, report_s, render_s = min(baselines), min(reports), min(renders)
        total = report_s + render_s
        print(f"baseline count(*) over the window: {baseline:.2f} s")
        print(f"regional report (JSON figures): {report_s:.2f} s  ratio {report_s / baseline:.1f}x baseline")
        print(f"render PDF + CSV: {render_s:.2f} s; report + render {total:.2f} s"
              f" (target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'MISSED'})")
        print(f"enrollees in report: {report['enrollees']['active']}, alerts: {report['alerts']['total']}")
        return 0 if total < TARGET_S else 1
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
