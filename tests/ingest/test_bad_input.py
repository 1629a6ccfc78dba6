"""300 bad payloads of every kind, interleaved with good ones, through a running ingest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import psycopg

from dolbom.wire import QuarantineReason as Q
from tests.conftest import Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, Publisher, scalar, wait_until


def bad_payloads(device: str, now_ms: int) -> list[tuple[str, bytes, str]]:
    """(topic, payload, expected reason code), one of each kind per round."""
    r, e, s = (f"dolbom/v1/{device}/{k}" for k in ("reading", "event", "status"))
    day = 86_400_000
    out: list[tuple[str, bytes, str]] = []
    for i in range(300):
        ts = now_ms - 3_600_000 - i
        kinds: list[tuple[str, bytes, str]] = [
            (r, b"\xc3\x28 not utf8 %d" % i, Q.NOT_UTF8),
            (r, b"{broken json %d" % i, Q.NOT_JSON),
            (r, orjson.dumps({"ts": ts}), Q.BAD_SHAPE),
            (r, orjson.dumps({"ts": f"soon-{i}", "values": {"spo2": 97}}), Q.BAD_TIMESTAMP),
            (r, orjson.dumps({"ts": now_ms + day + i, "values": {"spo2": 97}}),
             Q.FUTURE_TIMESTAMP),
            (r, orjson.dumps({"ts": now_ms - 40 * day - i, "values": {"spo2": 97}}),
             Q.STALE_TIMESTAMP),
            (r, orjson.dumps({"ts": ts, "values": {f"metric_{i}": 1}}), Q.UNKNOWN_METRIC),
            (r, orjson.dumps({"ts": ts, "values": {"glucose": "high"}}), Q.BAD_VALUE),
            (r, orjson.dumps({"ts": ts, "values": {"heart_rate": 300 + i}}), Q.OUT_OF_RANGE),
            (r, orjson.dumps([{"ts": ts - k, "values": {"steps": 1}} for k in range(1001)]),
             Q.BATCH_TOO_LONG),
            (e, orjson.dumps({"ts": ts, "type": f"dance_{i}"}), Q.UNKNOWN_EVENT_TYPE),
            (s, b"{}", Q.BAD_SHAPE),
            (r, orjson.dumps({"ts": ts, "values": {"spo2": 97}, "device_id": "someone-else"}),
             Q.WRONG_DEVICE),
            (f"dolbom/v1/ghost-{i % 7}/reading", orjson.dumps({"ts": ts, "values": {"spo2": 97}}),
             Q.UNKNOWN_DEVICE),
            (f"dolbom/v1/bad.id.{i}/reading", b"{}", Q.BAD_TOPIC),
            (r, b'{"ts": 1, "values": {}, "pad": "' + b"x" * 300_000 + b'"}', Q.TOO_LARGE),
        ]
        out.append(kinds[i % len(kinds)])
    return out


def test_300_bad_payloads_interleaved_with_good_ones(
    db: psycopg.Connection, db_url: str, fresh_broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    device, wire_id = make_device(db, make_enrollee(db), device_id="mixed-band")
    broker = fresh_broker  # a broker of its own: no retained messages from other tests
    ingest = ingest_factory(db_url, broker)
    ingest.start()
    pub = publisher_factory(broker)
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    bad = bad_payloads(wire_id, now_ms)
    expected = Counter(code for _, _, code in bad)
    # every reason code of the contract is in the mix; the two about the publisher need the
    # broker's identity plugin and are covered by tests/ingest/test_identity_broker.py
    assert set(expected) == set(Q) - {Q.WRONG_PUBLISHER, Q.UNAUTHENTICATED}
    good_ts = [now - timedelta(minutes=30, seconds=i) for i in range(300)]
    for i, (topic, payload, _) in enumerate(bad):
        pub.publish(f"dolbom/v1/{wire_id}/reading",
                    orjson.dumps({"ts": good_ts[i].isoformat(), "values": {"heart_rate": 70}}))
        pub.publish(topic, payload)
    pub.flush()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM quarantine") >= 300, 60, "quarantine")
    wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") >= 300, 60, "good readings")
    got = Counter(dict(db.execute(
        "SELECT reason_code, count(*) FROM quarantine GROUP BY reason_code").fetchall()))
    assert got == expected
    stored = {row[0] for row in db.execute(
        "SELECT ts FROM readings WHERE device = %s", (device,)).fetchall()}
    assert stored == set(good_ts)
    assert scalar(db, "SELECT count(*) FROM quarantine WHERE reason = '' OR payload = ''") == 0
    # CONTRACT §5.9: the first 64 KB kept, with the whole message's size and SHA-256
    big = db.execute("SELECT length(payload), topic, device_id, payload_size, "
                     "length(payload_sha256) FROM quarantine "
                     "WHERE reason_code = 'too_large' LIMIT 1").fetchone()
    assert big is not None and big[0] == 64 * 1024 and big[2] == wire_id
    assert big[3] > 300_000 and big[4] == 32
    assert ingest.alive
    assert "Traceback" not in ingest.log()
