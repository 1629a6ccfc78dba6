"""Readings and events: time-partitioned tables, or hypertables when TimescaleDB is present.

Readings are narrow: (device smallint-sized integer id, metric code, ts, value real), unique
on (device, metric, ts) so a redelivered measurement is stored once.
"""

from __future__ import annotations

import psycopg

from store.partitions import ensure_partitions

NAME = "readings and events (partitioned or hypertable)"

COMMON = """
CREATE TABLE readings (
    device  integer  NOT NULL,
    metric  smallint NOT NULL,
    ts      timestamptz NOT NULL,
    value   real NOT NULL
){partition};
CREATE TABLE events (
    device       integer  NOT NULL,
    enrollee_id  integer  NOT NULL,
    type         smallint NOT NULL,
    ts           timestamptz NOT NULL,
    data         jsonb
){partition};
"""

INDEXES = """
CREATE UNIQUE INDEX readings_device_metric_ts_key ON readings (device, metric, ts);
CREATE INDEX readings_ts_brin ON readings USING brin (ts) WITH (pages_per_range = 32);
CREATE UNIQUE INDEX events_device_type_ts_key ON events (device, type, ts);
CREATE INDEX events_enrollee_ts_idx ON events (enrollee_id, ts);
CREATE INDEX events_ts_brin ON events USING brin (ts) WITH (pages_per_range = 32);
"""


def timescale_available(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return row is not None


def apply(conn: psycopg.Connection) -> None:
    if timescale_available(conn):
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute(COMMON.format(partition=""))
        conn.execute(INDEXES)
        for table in ("readings", "events"):
            conn.execute(
                "SELECT create_hypertable(%s, 'ts', chunk_time_interval => interval '7 days')",
                (table,),
            )
        conn.execute(
            "ALTER TABLE readings SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'device, metric', "
            "timescaledb.compress_orderby = 'ts')"
        )
        conn.execute("SELECT add_compression_policy('readings', interval '14 days')")
        conn.execute("INSERT INTO job_state (job, detail) VALUES ('storage', %s)",
                     ('{"engine": "timescaledb"}',))
        return
    conn.execute(COMMON.format(partition=" PARTITION BY RANGE (ts)"))
    conn.execute("CREATE TABLE readings_default PARTITION OF readings DEFAULT")
    conn.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
    conn.execute(INDEXES)
    conn.execute("INSERT INTO job_state (job, detail) VALUES ('storage', %s)",
                 ('{"engine": "partitioned"}',))
    ensure_partitions(conn)
