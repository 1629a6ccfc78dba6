"""Simulator benchmarks: generation speed, backfill publishing, load generator.

Run: ``.venv/bin/python -m bench device_sim``. Each figure is measured against a baseline in
the same run: generation against the floor cost of building and serialising as many trivial
messages; publishing against publishing pre-built frames over the same connection type.
Target (issue 4 brief): 28 days × 200 enrollees generated in well under a minute.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from device_sim import generate, population, scenarios
from device_sim.load import LoadPlan, run_load
from device_sim.publish import Publisher, run
from dolbom.config import MqttTarget

TZ = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 2, tzinfo=TZ)
TARGET_S = 60.0


def _population(size: int) -> population.Population:
    groups = [{"profile": p, "count": size // 6 + (1 if i < size % 6 else 0)}
              for i, p in enumerate(population.PROFILES)]
    return population.build(scenarios.parse({"scenario": {"name": "bench"}, "group": groups}), 1)


def bench_generation(size: int = 200, days: int = 28) -> float:
    pop = _population(size)
    t0 = time.perf_counter()
    count = payload_bytes = 0
    for frame in generate.frames(pop, START, START + timedelta(days=days)):
        count += 1
        payload_bytes += len(frame[2])
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(count):  # floor: one dict and one serialisation per message
        orjson.dumps({"ts": i, "values": {"heart_rate": 70}})
    floor = time.perf_counter() - t0
    person_days = size * days
    print(f"generation: {size} enrollees x {days} days = {count:,} messages "
          f"({payload_bytes / 1e6:.0f} MB) in {elapsed:.1f} s "
          f"({elapsed / person_days * 1000:.2f} ms per person-day, {count / elapsed:,.0f} msg/s)")
    print(f"  baseline (trivial dict + orjson per message): {floor:.2f} s; ratio {elapsed / floor:.1f}x")
    print(f"  target < {TARGET_S:.0f} s: {'met' if elapsed < TARGET_S else 'MISSED'}")
    return elapsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _broker(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\n"
                    "max_queued_messages 0\nmax_packet_size 2000000\n")
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    return proc, f"mqtt://127.0.0.1:{port}"


def bench_publish(url: str, size: int = 50, days: int = 1) -> None:
    pop = _population(size)
    end = START + timedelta(days=days)
    frames = list(generate.frames(pop, START, end, backlog_until=end))
    target = MqttTarget.parse(url)
    base = Publisher(target, "bench-baseline")
    base.connect()
    t0 = time.perf_counter()
    for frame in frames:
        base.publish(frame[1], frame[2], 1)
    base.flush()
    baseline = time.perf_counter() - t0
    base.close()
    pub = Publisher(target, "bench-backfill")
    pub.connect()
    t0 = time.perf_counter()
    counts = run(pub, generate.frames(pop, START, end, backlog_until=end))
    elapsed = time.perf_counter() - t0
    pub.close()
    print(f"backfill: {size} enrollees x {days} day = {counts.sent:,} messages, QoS 1, "
          f"{counts.acked:,} acknowledged, {elapsed:.1f} s = {counts.sent / elapsed:,.0f} msg/s")
    print(f"  baseline (same frames pre-built, same connection): {baseline:.1f} s = "
          f"{len(frames) / baseline:,.0f} msg/s; ratio {elapsed / baseline:.2f}x")


def bench_load(url: str) -> None:
    for qos, batch in ((1, 1), (0, 1), (1, 50)):
        plan = LoadPlan(url, rate=50_000, devices=200, processes=2, qos=qos, batch=batch,
                        seconds=3.0, prefix=f"bench{qos}{batch}")
        result = run_load(plan, progress=False)
        print(f"  {result.summary(plan)}")


def main() -> int:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    elapsed = bench_generation()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _broker(Path(tmp))
        try:
            bench_publish(url)
            print("load generator (2 processes, target 50,000 msg/s, 3 s; no ingest attached):")
            bench_load(url)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0 if elapsed < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
