"""Prometheus metrics of one ingest process (served on ``DOLBOM_INGEST_METRICS_PORT``).

System-wide totals (readings stored, quarantined by reason) live in the store's ``counters``
and ``quarantine`` tables and are exposed by the API; these are the process's own figures.
Updated once per batch, not per message, to keep the MQTT thread cheap.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("dolbom_ingest_messages", "MQTT messages received and processed")
READINGS_STORED = Counter("dolbom_ingest_readings_stored", "Readings inserted")
EVENTS_STORED = Counter("dolbom_ingest_events_stored", "Events inserted")
DUPLICATES = Counter("dolbom_ingest_duplicates", "Readings and events already stored (redelivery)")
QUARANTINED = Counter("dolbom_ingest_quarantined", "Payloads or parts quarantined", ["reason"])
ALERTS = Counter("dolbom_ingest_alerts_raised", "Alerts opened or updated on arrival", ["kind"])
BATCH_ROWS = Histogram(
    "dolbom_ingest_batch_rows", "Readings and events per committed batch",
    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 50000),
)
COMMIT_SECONDS = Histogram(
    "dolbom_ingest_commit_seconds", "Time to store and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
QUEUE_DEPTH = Gauge("dolbom_ingest_queue_depth", "Messages received and not yet committed")
LAG_SECONDS = Gauge("dolbom_ingest_lag_seconds", "Age of the oldest message not yet committed")
MQTT_RECONNECTS = Counter("dolbom_ingest_mqtt_reconnects", "MQTT connections lost")
DB_RETRIES = Counter("dolbom_ingest_db_retries", "Batch commits retried after a database error")
