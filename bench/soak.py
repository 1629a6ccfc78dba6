"""Soak benchmark (issue 8): 30 minutes at 3,000 readings/s with critical scenarios injected.

A private Mosquitto, a scratch database, a real ``dolbom ingest`` and a live ``dolbom analytics``
(the minute scheduler, wall clock). Load: 1,000 wearables publishing single readings at
1,500 messages/s plus 100 devices uploading offline backlogs (arrays of 50 at 30 messages/s),
3,000 readings/s in all, QoS 1. Every ``INJECT_EVERY_S`` a critical condition is injected for
one of the scenario enrollees (SOS, fall, SpO2 82 % twice, BP 186/124 twice).

Reported, each against its own baseline in the same run:
- readings stored / readings the broker acknowledged (target: 1.000, nothing lost, nothing twice);
- injected critical alerts raised critical / injected (target 1.000), with publish → alert
  latency p50/p99;
- RSS of ingest and analytics: median of the last five minutes / median of minutes 2-7
  (target: flat, below 1.2).

``python -m bench soak`` (30 min) or ``python -m bench.soak MINUTES`` for a shorter run.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from bench.ingest import ADMIN_URL, DOLBOM, percentile, rss_mb, start_broker
from device_sim.load import LoadPlan, LoadResult, run_load
from device_sim.provision import provision_load
from device_sim.publish import Publisher
from dolbom.config import MqttTarget
from dolbom.wire import event_topic, reading_topic

MINUTES = 30.0
SINGLE_RATE = 1_500  # messages/s of one reading
BACKLOG_RATE = 30  # messages/s of BACKLOG_BATCH readings
BACKLOG_BATCH = 50
SINGLE_DEVICES = 1_000
BACKLOG_DEVICES = 100
SCENARIO_ENROLLEES = 60
INJECT_EVERY_S = 45.0
SAMPLE_EVERY_S = 5.0
PRINT_EVERY_S = 180.0
DRAIN_TIMEOUT_S = 300.0
ALERT_WAIT_S = 30.0


@dataclass(frozen=True)
class Injection:
    enrollee_id: int
    kind: str
    sent_at: float  # wall clock, epoch seconds


def _scenario_devices(url: str) -> list[tuple[int, str, str]]:
    """(enrollee id, wearable, speaker) of the scenario enrollees, provisioned here."""
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        region = conn.execute("INSERT INTO regions (name) VALUES ('soak') RETURNING id").fetchone()[0]  # type: ignore[index]
        for n in range(SCENARIO_ENROLLEES):
            enrollee = conn.execute(
                "INSERT INTO enrollees (region_id, name, birth_year, sex) VALUES (%s, %s, 1944, 'F') "
                "RETURNING id", (region, f"soak-{n}")).fetchone()[0]  # type: ignore[index]
            band, speaker = f"soak-band-{n}", f"soak-speaker-{n}"
            conn.execute("INSERT INTO devices (device_id, enrollee_id, kind) VALUES (%s, %s, 'wearable'), "
                         "(%s, %s, 'ai_speaker')", (band, enrollee, speaker, enrollee))
            out.append((int(enrollee), band, speaker))
    return out


def _inject(pub: Publisher, stop: threading.Event, devices: list[tuple[int, str, str]],
            injected: list[Injection]) -> None:
    """One critical condition per ``INJECT_EVERY_S``, each on an enrollee of its own."""
    kinds = ["sos", "fall", "low_spo2", "hypertensive_crisis"]
    for n, (enrollee, band, speaker) in enumerate(devices):
        if stop.wait(INJECT_EVERY_S):
            return
        kind = kinds[n % len(kinds)]
        sent = time.time()
        ms = int(sent * 1000)
        if kind in ("sos", "fall"):
            pub.publish(event_topic(speaker if kind == "sos" else band),
                        orjson.dumps({"ts": ms, "type": kind}), qos=1)
        else:
            values = {"spo2": 82} if kind == "low_spo2" else {"systolic_bp": 186, "diastolic_bp": 124}
            pub.publish(reading_topic(band), orjson.dumps({"ts": ms, "values": values}), qos=1)
            # the confirming repeat (AHA: recheck; NEWS2 SpO2 scale 1: <= 91 % scores 3)
            if stop.wait(20):
                return
            pub.publish(reading_topic(band),
                        orjson.dumps({"ts": ms + 20_000, "values": values}), qos=1)
        injected.append(Injection(enrollee, kind, sent))


def _sample(pids: dict[str, int], stop: threading.Event, samples: Samples, started: float) -> None:
    printed = 0.0
    while not stop.wait(SAMPLE_EVERY_S):
        elapsed = time.monotonic() - started
        samples.append((elapsed, {k: rss_mb(p) for k, p in pids.items()}))
        if elapsed - printed >= PRINT_EVERY_S:
            printed = elapsed
            last = _per_minute(samples, elapsed - 60, elapsed)
            print(f"  {elapsed / 60:5.1f} min: RSS over the last minute " + ", ".join(
                f"{k} {lo:.0f}-{hi:.0f} MB" for k, (lo, hi) in last.items())
                + f"; load average {os.getloadavg()[0]:.2f}", flush=True)


def _start(args: list[str], env: dict[str, str], workdir: Path, log: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([DOLBOM, *args], env=env, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=open(workdir / log, "ab"))


def _readings_stored(conn: psycopg.Connection, prefixes: tuple[str, ...]) -> tuple[int, int]:
    """(rows, distinct (device, metric, ts)) of the load devices."""
    row = conn.execute(
        "SELECT count(*), count(DISTINCT (r.device, r.metric, r.ts)) FROM readings r "
        "WHERE r.device IN (SELECT id FROM devices WHERE device_id LIKE ANY(%s))",
        ([f"{p}-%" for p in prefixes],)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


Samples = list[tuple[float, dict[str, float]]]


def _per_minute(samples: Samples, start: float, end: float) -> dict[str, tuple[float, float]]:
    """(lowest, highest) RSS per process in [start, end): between jobs and during one."""
    inside = [rss for t, rss in samples if start <= t < end] or [samples[-1][1]]
    return {k: (min(r[k] for r in inside), max(r[k] for r in inside)) for k in inside[0]}


def _rss_trend(samples: Samples, name: str, seconds: float) -> tuple[float, float, float, float]:
    """Median over minutes 2-7 and over the last five minutes of the load, of each minute's
    lowest RSS (the process between jobs) and highest (during one)."""
    def minutes(lo: float, hi: float) -> list[tuple[float, float]]:
        return [_per_minute(samples, m, m + 60)[name] for m in range(int(lo), int(hi) - 59, 60)]

    early, late = minutes(120, 420), minutes(seconds - 300, seconds)
    return (statistics.median(m[0] for m in early), statistics.median(m[0] for m in late),
            statistics.median(m[1] for m in early), statistics.median(m[1] for m in late))


def run(minutes: float) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="dolbom-bench-soak-"))
    broker, port = start_broker(workdir)
    name = f"dolbom_soak_{os.getpid()}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    mqtt_url = f"mqtt://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        from store.migrate import migrate

        migrate(url)
        provision_load(url, "soak1", SINGLE_DEVICES)
        provision_load(url, "soak2", BACKLOG_DEVICES)
        scenario = _scenario_devices(url)
        random.Random(8).shuffle(scenario)
        env = {**os.environ, "DOLBOM_DATABASE_URL": url, "DOLBOM_MQTT_URL": mqtt_url,
               "DOLBOM_INGEST_CLIENT_ID": f"soak-ingest-{uuid.uuid4().hex[:6]}",
               "DOLBOM_CONFIG": str(workdir / "none.toml"), "DOLBOM_LOG_LEVEL": "WARNING"}
        procs.append(_start(["ingest"], env, workdir, "ingest.log"))
        # analytics logs its job lines (durations, counts; no names or vitals) for the record
        procs.append(_start(["analytics"], {**env, "DOLBOM_LOG_LEVEL": "INFO"}, workdir, "analytics.log"))
        time.sleep(5)
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        seconds = minutes * 60
        print(f"soak: {minutes:g} min at {SINGLE_RATE + BACKLOG_RATE * BACKLOG_BATCH:,} readings/s "
              f"({SINGLE_RATE:,} single + {BACKLOG_RATE} arrays of {BACKLOG_BATCH}); "
              f"load average at start {os.getloadavg()[0]:.2f}", flush=True)
        plans = [LoadPlan(mqtt_url, SINGLE_RATE, SINGLE_DEVICES, 2, 1, 1, seconds, "soak1"),
                 LoadPlan(mqtt_url, BACKLOG_RATE, BACKLOG_DEVICES, 1, 1, BACKLOG_BATCH, seconds, "soak2")]
        results: dict[str, LoadResult] = {}
        failures: list[str] = []

        def load(plan: LoadPlan) -> None:
            try:
                results[plan.prefix] = run_load(plan, progress=False)
            except Exception as error:
                failures.append(str(error))

        injected: list[Injection] = []
        samples: Samples = []
        pub = Publisher(MqttTarget.parse(mqtt_url), "soak-scenarios")
        pub.connect()
        started = time.monotonic()
        threads = [threading.Thread(target=load, args=(p,), daemon=True) for p in plans]
        threads.append(threading.Thread(target=_inject, args=(pub, stop, scenario, injected), daemon=True))
        pids = {"ingest": procs[0].pid, "analytics": procs[1].pid}
        threads.append(threading.Thread(target=_sample, args=(pids, stop, samples, started), daemon=True))
        for t in threads:
            t.start()
        for t in threads[:2]:
            t.join()
        stop.set()
        pub.flush()
        pub.close()
        if failures:
            raise RuntimeError(failures[0])
        acked_readings = sum(results[p.prefix].acked * p.batch for p in plans)
        sent_readings = sum(r.readings for r in results.values())
        # wait until ingest has drained what the broker holds
        with psycopg.connect(url, autocommit=True) as conn:
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            stored = distinct = 0
            while time.monotonic() < deadline:
                stored, distinct = _readings_stored(conn, ("soak1", "soak2"))
                if stored >= acked_readings:
                    break
                time.sleep(5)
            time.sleep(ALERT_WAIT_S)
            alerts = {
                (int(r[0]), str(r[1])): (str(r[2]), r[3].timestamp())
                for r in conn.execute(
                    "SELECT enrollee_id, kind, severity, opened_at FROM alerts WHERE severity = 'critical'")
            }
            quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]
        found = [i for i in injected if alerts.get((i.enrollee_id, i.kind), ("", 0))[0] == "critical"]
        latencies = [alerts[(i.enrollee_id, i.kind)][1] - i.sent_at for i in found]
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} died during the soak (exit {proc.returncode})")
        print(f"load: sent {sent_readings:,} readings, broker acknowledged {acked_readings:,} "
              f"({sent_readings / seconds:,.0f} readings/s over {seconds:,.0f} s)")
        print(f"stored {stored:,} rows, {distinct:,} distinct = {stored / max(acked_readings, 1):.4f} of "
              f"acknowledged (target 1.0000; lost {max(acked_readings - distinct, 0):,}, "
              f"duplicated {stored - distinct:,}); quarantined {quarantined}")
        lat = (f"publish → alert p50 {percentile(latencies, 0.5):.2f} s, p99 "
               f"{percentile(latencies, 0.99):.2f} s (a vital turns critical at its 20 s repeat)"
               if latencies else "no alert latencies")
        print(f"critical alerts: {len(found)} of {len(injected)} injected raised critical "
              f"= {len(found) / max(len(injected), 1):.3f} (target 1.000); {lat}")
        missing = [f"{i.kind}@{i.enrollee_id}" for i in injected if i not in found]
        if missing:
            print(f"missing: {', '.join(missing)}")
        for proc_name in ("ingest", "analytics"):
            low_a, low_b, high_a, high_b = _rss_trend(samples, proc_name, seconds)
            print(f"RSS {proc_name:9s} between jobs: minutes 2-7 {low_a:6.1f} MB, last 5 min {low_b:6.1f} MB "
                  f"= {low_b / low_a:.2f}x (target < 1.2, flat); peak per minute {high_a:.1f} → "
                  f"{high_b:.1f} MB = {high_b / high_a:.2f}x; "
                  f"max {max(s[proc_name] for _, s in samples):.1f} MB")
        print(f"load average at end {os.getloadavg()[0]:.2f}")
        ok = distinct == acked_readings == stored and len(found) == len(injected)
        return 0 if ok else 1
    except Exception:
        for log in ("ingest.log", "analytics.log"):
            if (workdir / log).exists():
                print(f"--- {log}\n{(workdir / log).read_text()[-3000:]}")
        raise
    finally:
        stop.set()
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        broker.terminate()
        broker.wait(timeout=10)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if (workdir / "analytics.log").exists():
            shutil.copy(workdir / "analytics.log", Path(tempfile.gettempdir()) / "dolbom-soak-analytics.log")
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    return run(MINUTES)


if __name__ == "__main__":
    sys.exit(run(float(sys.argv[1]) if len(sys.argv) > 1 else MINUTES))
