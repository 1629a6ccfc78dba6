"""Ingest benchmarks (issue 3), with their baselines measured in the same run.

- single-reading QoS 1 messages, end to end to committed rows, against a subscriber that does
  nothing (the ceiling: the Python publisher and MQTT client) and a naive pipeline (one
  INSERT and COMMIT per message, ack after commit);
- arrays of 500 readings end to end (readings/s), and ingest's RSS before and after 1 M;
- SOS publish → alert committed and NOTIFY received, p50/p99, under 5,000 readings/s.

Everything runs on a private Mosquitto and a scratch database, dropped at the end.
``python -m bench ingest``; subprocess modes: ``python -m bench.ingest null|naive PORT N DB``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DOLBOM = str(ROOT / ".venv" / "bin" / "dolbom")
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SINGLE_N = 50_000
NAIVE_N = 5_000
BATCH_SIZE = 500
BATCHED_READINGS = 1_000_000
DEVICES = 100
SOS_SAMPLES = 100
BACKGROUND_RATE = 5_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_inflight_messages 0\nmax_queued_messages 0\nmax_packet_size 2000000\n")
    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def client(client_id: str = "") -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                    client_id=client_id or f"bench-{uuid.uuid4().hex[:8]}",
                    protocol=MQTTProtocolVersion.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


class Publisher:
    def __init__(self, port: int) -> None:
        self.client = client()
        self.acked = 0
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, *args: object) -> None:
        self.acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


HOUR_MS = 3_600_000
NULL_PREFIX = "nullbnch/v1"  # same length as dolbom/v1: same bytes on the wire


def single_payloads(n: int, base: datetime, offset_ms: int = 0,
                    prefix: str = "dolbom/v1") -> list[tuple[str, bytes]]:
    """n single-reading messages, 10 ms apart from ``base + offset_ms`` (stages use distinct
    hours of the two days before now, so nothing collides or is refused)."""
    base_ms = int(base.timestamp() * 1000) + offset_ms
    return [(f"{prefix}/bench-{i % DEVICES}/reading",
             orjson.dumps({"ts": base_ms + i * 10, "values": {"heart_rate": 72}}))
            for i in range(n)]


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise RuntimeError("benchmark stage timed out")


def stored(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT value FROM counters WHERE name = 'readings_stored'").fetchone()
    return int(row[0]) if row else 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- subprocess modes -------------------------------------------------------------------------

def run_null(port: int, n: int) -> None:
    """Subscribe and do nothing; print the seconds from first to n-th message."""
    got = 0
    first = 0.0
    done = threading.Event()
    sub = client()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        nonlocal got, first
        if got == 0:
            first = time.perf_counter()
        got += 1
        if got >= n:
            done.set()

    def on_connect(c: mqtt.Client, *a: object) -> None:
        c.subscribe(f"{NULL_PREFIX}/+/reading", qos=1)

    sub.on_message = on_message
    sub.on_connect = on_connect
    from dolbom.mqtt import connect_properties

    sub.connect("127.0.0.1", port, properties=connect_properties())
    sub.loop_start()
    print("ready", flush=True)
    done.wait()
    print(f"{time.perf_counter() - first:.6f}", flush=True)


def run_naive(port: int, n: int, db_url: str) -> None:
    """One INSERT and COMMIT per message, ack after commit (the obvious first version)."""
    conn = psycopg.connect(db_url)
    devices = dict(conn.execute("SELECT device_id, id FROM devices").fetchall())
    got = 0
    done = threading.Event()
    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="naive",
                      protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        nonlocal got
        body = orjson.loads(m.payload)
        device = devices[m.topic.split("/")[2]]
        ts = datetime.fromtimestamp(body["ts"] / 1000, UTC)
        for name, value in body["values"].items():
            conn.execute("INSERT INTO readings (device, metric, ts, value) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (device, 1 if name == "heart_rate" else 2,
                                                     ts, value))
        conn.commit()
        c.ack(m.mid, m.qos)
        got += 1
        if got >= n:
            done.set()

    def on_connect(c: mqtt.Client, *a: object) -> None:
        c.subscribe("dolbom/v1/+/reading", qos=1)

    sub.on_message = on_message
    sub.on_connect = on_connect
    from dolbom.mqtt import connect_properties

    sub.connect("127.0.0.1", port, properties=connect_properties())
    sub.loop_start()
    print("ready", flush=True)
    done.wait()
    print("done", flush=True)


# -- stages -----------------------------------------------------------------------------------

def stage_null(port: int, base: datetime) -> float:
    proc = subprocess.Popen([PYTHON, "-m", "bench.ingest", "null", str(port), str(SINGLE_N)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    pub = Publisher(port)
    for topic, payload in single_payloads(SINGLE_N, base, prefix=NULL_PREFIX):
        pub.publish(topic, payload)
    seconds = float(proc.stdout.readline())
    proc.wait(timeout=30)
    pub.close()
    return SINGLE_N / seconds


def stage_naive(port: int, db_url: str, base: datetime) -> float:
    proc = subprocess.Popen([PYTHON, "-m", "bench.ingest", "naive", str(port), str(NAIVE_N),
                             db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    pub = Publisher(port)
    started = time.perf_counter()
    for topic, payload in single_payloads(NAIVE_N, base, offset_ms=1 * HOUR_MS):
        pub.publish(topic, payload)
    proc.stdout.readline()
    seconds = time.perf_counter() - started
    proc.wait(timeout=30)
    pub.close()
    return NAIVE_N / seconds


def start_ingest(port: int, db_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DOLBOM_DATABASE_URL": db_url,
           "DOLBOM_MQTT_URL": f"mqtt://127.0.0.1:{port}",
           "DOLBOM_INGEST_CLIENT_ID": f"bench-ingest-{uuid.uuid4().hex[:6]}",
           "DOLBOM_CONFIG": str(workdir / "none.toml"), "DOLBOM_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([DOLBOM, "ingest"], env=env, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "ingest.log", "ab"))  # noqa: SIM115
    return proc


def wait_ingest_ready(port: int, conn: psycopg.Connection, base: datetime) -> None:
    pub = Publisher(port)
    probe_ms = int((base - timedelta(hours=1)).timestamp() * 1000)
    before = stored(conn)
    deadline = time.monotonic() + 30
    while stored(conn) == before:
        if time.monotonic() > deadline:
            raise RuntimeError("ingest did not start")
        pub.publish("dolbom/v1/bench-0/reading",
                    orjson.dumps({"ts": probe_ms, "values": {"spo2": 97}}))
        probe_ms += 1
        time.sleep(0.3)
    time.sleep(0.5)
    pub.close()


def stage_ingest_single(port: int, conn: psycopg.Connection, base: datetime,
                        offset_ms: int) -> float:
    pub = Publisher(port)
    before = stored(conn)
    payloads = single_payloads(SINGLE_N, base, offset_ms=offset_ms)
    started = time.perf_counter()
    for topic, payload in payloads:
        pub.publish(topic, payload)
    wait_for(lambda: stored(conn) - before >= SINGLE_N, 120)
    seconds = time.perf_counter() - started
    pub.close()
    return SINGLE_N / seconds


def stage_batched(port: int, conn: psycopg.Connection, base: datetime, hour: int) -> float:
    pub = Publisher(port)
    before = stored(conn)
    base_ms = int(base.timestamp() * 1000) + (hour - 5) * HOUR_MS
    per_device = BATCHED_READINGS // DEVICES
    payloads = []
    for d in range(DEVICES):
        for start in range(0, per_device, BATCH_SIZE):
            payloads.append((f"dolbom/v1/bench-{d}/reading", orjson.dumps([
                {"ts": base_ms + 5 * HOUR_MS + (start + k) * 10, "values": {"spo2": 97}}
                for k in range(BATCH_SIZE)])))
    started = time.perf_counter()
    for topic, payload in payloads:
        pub.publish(topic, payload)
    wait_for(lambda: stored(conn) - before >= BATCHED_READINGS, 180)
    seconds = time.perf_counter() - started
    pub.close()
    return BATCHED_READINGS / seconds


def stage_sos(port: int, db_url: str, base: datetime) -> list[float]:
    stop = threading.Event()

    def background() -> None:
        pub = Publisher(port)
        base_ms = int(base.timestamp() * 1000) + 10 * HOUR_MS
        i = 0
        started = time.perf_counter()
        while not stop.is_set():
            due = started + i / BACKGROUND_RATE
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pub.publish(f"dolbom/v1/bench-{i % DEVICES}/reading",
                        orjson.dumps({"ts": base_ms + i * 10, "values": {"heart_rate": 70}}))
            i += 1
        pub.close()

    loader = threading.Thread(target=background, daemon=True)
    loader.start()
    time.sleep(1.0)
    pub = Publisher(port)
    latencies: list[float] = []
    with psycopg.connect(db_url, autocommit=True) as listen:
        listen.execute("LISTEN dolbom_alerts")
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        for i in range(SOS_SAMPLES):
            sent = time.perf_counter()
            pub.publish("dolbom/v1/bench-speaker/event",
                        orjson.dumps({"ts": now_ms - 60_000 + i, "type": "sos"}))
            for _note in listen.notifies(timeout=5, stop_after=1):
                latencies.append(time.perf_counter() - sent)
            time.sleep(0.05)
    stop.set()
    loader.join()
    pub.close()
    return latencies


def setup_database() -> tuple[str, str]:
    from store.migrate import migrate

    name = f"dolbom_bench_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        region = conn.execute("INSERT INTO regions (name) VALUES ('bench') RETURNING id"
                              ).fetchone()[0]  # type: ignore[index]
        enrollee = conn.execute(
            "INSERT INTO enrollees (region_id, name, birth_year, sex) "
            "VALUES (%s, 'bench', 1945, 'F') RETURNING id", (region,)).fetchone()[0]  # type: ignore[index]
        for d in range(DEVICES):
            conn.execute("INSERT INTO devices (device_id, enrollee_id, kind) VALUES (%s, %s, %s)",
                         (f"bench-{d}", enrollee, "wearable"))
        conn.execute("INSERT INTO devices (device_id, enrollee_id, kind, room) "
                     "VALUES ('bench-speaker', %s, 'ai_speaker', 'living')", (enrollee,))
    return name, url


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="dolbom-bench-ingest-"))
    broker, port = start_broker(workdir)
    name, url = setup_database()
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    ingest: subprocess.Popen[bytes] | None = None
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores, shared machine)")
        naive_rate = stage_naive(port, url, base)
        print(f"naive pipeline            {naive_rate:9,.0f} rows/s  (INSERT+COMMIT per message)")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM readings")
            ingest = start_ingest(port, url, workdir)
            wait_ingest_ready(port, conn, base)
            # Alternate baseline and ingest twice and keep the best of each, so a burst of
            # load from other processes on this shared machine does not decide the ratio.
            nulls, singles = [], []
            for round_ in range(2):
                nulls.append(stage_null(port, base))
                singles.append(stage_ingest_single(port, conn, base,
                                                   (2 + round_) * HOUR_MS))
                print(f"round {round_ + 1}: do-nothing {nulls[-1]:,.0f} msgs/s, "
                      f"ingest {singles[-1]:,.0f} rows/s")
            null_rate, single = max(nulls), max(singles)
            print(f"do-nothing subscriber     {null_rate:9,.0f} msgs/s (best of 2)")
            print(f"ingest, single readings   {single:9,.0f} rows/s  "
                  f"= {single / null_rate:.0%} of do-nothing (target >= 90%), "
                  f"{single / naive_rate:.1f}x naive (target >= 5x)")
            rss = [rss_mb(ingest.pid)]
            rates = []
            for round_ in range(2):  # the second million shows whether memory keeps growing
                rates.append(stage_batched(port, conn, base, 5 + 2 * round_))
                rss.append(rss_mb(ingest.pid))
            batched = max(rates)
            print(f"ingest, arrays of {BATCH_SIZE}     {batched:9,.0f} readings/s "
                  f"(target >= 150,000) = {batched / 150_000:.2f}x target "
                  f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
            print(f"ingest RSS                {rss[0]:9.0f} MB before, {rss[1]:.0f} MB after "
                  f"1 M readings, {rss[2]:.0f} MB after 2 M")
        latencies = stage_sos(port, url, base)
        if latencies:
            p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
            print(f"SOS → alert + NOTIFY      p50 {p50:6.1f} ms, p99 {p99:6.1f} ms over "
                  f"{len(latencies)} (target p99 < 100 ms, under {BACKGROUND_RATE:,} readings/s)")
        else:
            print("SOS → alert + NOTIFY: no notification received")
            return 1
        return 0
    except Exception:
        log = workdir / "ingest.log"
        if log.exists():
            print(log.read_text()[-3000:])
        raise
    finally:
        if ingest is not None:
            ingest.terminate()
            ingest.wait(timeout=30)
        broker.terminate()
        broker.wait(timeout=10)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "null":
        run_null(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "naive":
        run_naive(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(main())
