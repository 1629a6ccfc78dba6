"""Hourly rollup of readings for bucketed queries: a TimescaleDB continuous aggregate.

With TimescaleDB, ``readings_hourly`` (device, metric, bucket, n, vmin, vmax, vsum) is a
continuous aggregate refreshed every minute over the last 32 days (ingest accepts 30 days
back), with real-time aggregation on (``materialized_only = false``), so the newest hour is
always complete. The API answers ``bucket`` queries of whole hours from it
(``api.readings.service``). On plain PostgreSQL nothing is created and those queries read
``readings`` directly (date_bin over the weekly partitions; measured fast enough for a region,
see docs/scaling.md).

This path cannot be exercised where the extension is missing; should the aggregate fail to be
created, the migration records that and the API keeps reading ``readings``.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg.types.json import Jsonb

NAME = "hourly rollup of readings (continuous aggregate with TimescaleDB)"
log = logging.getLogger(__name__)

CREATE = """
CREATE MATERIALIZED VIEW readings_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device, metric, time_bucket(interval '1 hour', ts) AS bucket,
       count(*) AS n, min(value) AS vmin, max(value) AS vmax, sum(value::float8) AS vsum
FROM readings
GROUP BY device, metric, time_bucket(interval '1 hour', ts)
WITH NO DATA
"""

POLICY = """
SELECT add_continuous_aggregate_policy('readings_hourly',
    start_offset => interval '32 days', end_offset => interval '1 hour',
    schedule_interval => interval '1 minute')
"""


def apply(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT detail->>'engine' FROM job_state WHERE job = 'storage'").fetchone()
    if not row or row[0] != "timescaledb":
        return
    try:
        with conn.transaction():
            conn.execute(CREATE)
            conn.execute(POLICY)
    except psycopg.Error as error:
        log.warning("hourly continuous aggregate not created (%s); bucketed queries read readings",
                    error.diag.message_primary or error)
        return
    conn.execute(
        "UPDATE job_state SET detail = detail || %s WHERE job = 'storage'",
        (Jsonb({"rollup": "readings_hourly"}),),
    )
