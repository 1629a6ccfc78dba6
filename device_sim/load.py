"""``dolbom sim load``: many devices over several MQTT connections at a target rate.

Each process owns one connection and a share of the devices; it publishes readings (a single
measurement object, or arrays of ``batch``) paced to its share of the rate, then waits for the
broker's acknowledgements. The report says what was sent and what was acknowledged (QoS 1:
PUBACK from the broker; QoS 0 has none, so "acknowledged" means written to the socket).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import orjson

from device_sim.publish import Publisher
from dolbom import wire
from dolbom.config import MqttTarget, Settings

PROGRESS_EVERY_S = 2.0
JOIN_GRACE_S = 60.0


@dataclass(frozen=True, slots=True)
class LoadPlan:
    mqtt_url: str
    rate: float  # messages per second, all processes together
    devices: int
    processes: int
    qos: int
    batch: int
    seconds: float
    prefix: str = "load"


@dataclass
class LoadResult:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    readings: int = 0
    elapsed_s: float = 0.0
    per_process: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self, plan: LoadPlan) -> str:
        return (f"load: sent {self.sent:,} messages ({self.readings:,} readings) in "
                f"{self.elapsed_s:.1f} s = {self.rate:,.0f} msg/s (target {plan.rate:,.0f}); "
                f"acknowledged {self.acked:,}, failed {self.failed:,}; QoS {plan.qos}, "
                f"{plan.processes} connection(s), {plan.devices} devices, batch {plan.batch}")


def device_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-d{n:06d}" for n in range(1, count + 1)]


def _worker(plan: LoadPlan, index: int, sent: Synchronized, results: Any) -> None:  # type: ignore[type-arg]
    mine = device_ids(plan.prefix, plan.devices)[index:: plan.processes]
    topics = [wire.reading_topic(d) for d in mine]
    last_ts = [0] * len(mine)
    rate = plan.rate / plan.processes
    publisher = Publisher(MqttTarget.parse(plan.mqtt_url), f"dolbom-load-{plan.prefix}-{index}")
    outcome: dict[str, Any] = {"index": index, "error": None}
    try:
        publisher.connect()
        start = time.monotonic()
        i = 0
        while True:
            now = time.monotonic()
            if now - start >= plan.seconds:
                break
            ahead = start + i / rate - now
            if ahead > 0:
                time.sleep(min(ahead, 0.05))
                continue
            d = i % len(mine)
            base = max(int(time.time() * 1000), last_ts[d] + plan.batch)
            last_ts[d] = base
            items = [{"ts": base - (plan.batch - 1 - j), "values": {"heart_rate": 60 + (i + j) % 40}}
                     for j in range(plan.batch)]
            payload = orjson.dumps(items[0] if plan.batch == 1 else items)
            publisher.publish(topics[d], payload, qos=plan.qos)
            i += 1
            if i % 100 == 0:
                sent.value = i
        sent.value = i
        elapsed = time.monotonic() - start
        publisher.flush()
        outcome.update(sent=publisher.counts.sent, acked=publisher.counts.acked,
                       failed=publisher.counts.failed, readings=i * plan.batch, elapsed=elapsed)
    except Exception as error:  # reported to the parent as one line
        outcome["error"] = str(error)
    finally:
        try:
            publisher.close()
        except Exception:
            pass
        results.put(outcome)


def run_load(plan: LoadPlan, *, progress: bool = True) -> LoadResult:
    """Run the load and wait for every process; raises SimError-like RuntimeError on failure."""
    if plan.devices < plan.processes:
        raise ValueError("need at least one device per process")
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    counters = [ctx.Value("q", 0) for _ in range(plan.processes)]
    procs = [ctx.Process(target=_worker, args=(plan, i, counters[i], results), daemon=True)
             for i in range(plan.processes)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    outcomes: list[dict[str, Any]] = []
    last = started
    deadline = started + plan.seconds + JOIN_GRACE_S + 10
    while len(outcomes) < plan.processes and time.monotonic() < deadline:
        try:
            outcomes.append(results.get(timeout=0.5))
        except Exception:
            pass
        now = time.monotonic()
        if progress and now - last >= PROGRESS_EVERY_S:
            last = now
            total = sum(c.value for c in counters)
            print(f"load: {total:,} sent, {total / (now - started):,.0f} msg/s",
                  file=sys.stderr, flush=True)
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
    errors = [o["error"] for o in outcomes if o.get("error")]
    if errors or len(outcomes) < plan.processes:
        raise RuntimeError(errors[0] if errors else "a load process did not report back")
    result = LoadResult(per_process=sorted(outcomes, key=lambda o: o["index"]))
    for o in outcomes:
        result.sent += o["sent"]
        result.acked += o["acked"]
        result.failed += o["failed"]
        result.readings += o["readings"]
    result.elapsed_s = max(o["elapsed"] for o in outcomes)
    return result


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    from device_sim.errors import SimError
    from device_sim.provision import provision_load

    if args.devices < args.processes:
        raise SimError("--devices must be at least --processes (one device per connection)")
    if args.provision:
        new = provision_load(settings.database_url, args.prefix, args.devices)
        print(f"load: {args.devices} devices provisioned ({new} new)", file=sys.stderr)
    plan = LoadPlan(settings.mqtt_url, args.rate, args.devices, args.processes, args.qos,
                    args.batch, args.seconds, args.prefix)
    try:
        result = run_load(plan)
    except RuntimeError as error:
        raise SimError(f"load failed: {error}") from None
    print(result.summary(plan))
    return 0 if result.failed == 0 and (plan.qos == 0 or result.acked == result.sent) else 1
