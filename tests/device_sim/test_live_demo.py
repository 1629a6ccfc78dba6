"""The live demo against a real Mosquitto: its criticals and the homes' day reach the broker,
and through ingest the criticals open their alerts."""

from __future__ import annotations

import io
import threading
import time
import uuid
from datetime import datetime, timedelta
from itertools import takewhile
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim import generate, population, publish, scenarios
from device_sim.cli import main
from device_sim.model import Population
from device_sim.provision import provision
from device_sim.scenarios import rhythm
from dolbom.alerts import AlertKind as K
from dolbom.config import Settings
from tests.conftest import Broker
from tests.device_sim.conftest import SEOUL
from tests.ingest.conftest import IngestProcess, wait_until

SPEEDUP = 240.0  # 20 minutes of the demo in 5 s of the test


class Listener:
    """Subscribes to every device topic and keeps what a population's devices sent."""

    def __init__(self, broker: Broker, pop: Population) -> None:
        self.devices = {d.device_id: p.index for p in pop.people for d in p.devices}
        self.received: list[tuple[int, str, dict[str, object]]] = []  # (enrollee, topic, body)
        self.lock = threading.Lock()
        ready = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"listen-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda c, *a: c.subscribe([("dolbom/#", 1), ("zigbee2mqtt/#", 1)])
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert ready.wait(5)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        device = parts[1] if parts[0] == "zigbee2mqtt" else parts[-2]
        if device in self.devices and not msg.retain:
            body = orjson.loads(msg.payload) if msg.payload.startswith((b"{", b"[")) else {}
            with self.lock:
                self.received.append((self.devices[device], msg.topic,
                                      body if isinstance(body, dict) else {"items": body}))

    def of(self, enrollee: int) -> list[tuple[str, dict[str, object]]]:
        with self.lock:
            return [(topic, body) for index, topic, body in self.received if index == enrollee]

    def topics(self) -> list[str]:
        with self.lock:
            return [topic for _, topic, _ in self.received]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _value(body: dict[str, object], metric: str, missing: float) -> float:
    values = body.get("values")
    value = values.get(metric) if isinstance(values, dict) else None
    return float(value) if isinstance(value, int | float) else missing


def _shows(kind: str, messages: list[tuple[str, dict[str, object]]]) -> bool:
    """Whether a home's messages carry the injected condition (normal days never cross the
    lines: tests/device_sim/test_realism.py)."""
    if kind == K.SOS:
        return any(t.endswith("-spk/event") and b.get("type") == "sos" for t, b in messages)
    if kind == K.FALL:
        return any(t.endswith("-wear/event") and b.get("type") == "fall" for t, b in messages)
    if kind == K.HYPERTENSIVE_CRISIS:
        return any(_value(b, "systolic_bp", 0) >= 180 for _, b in messages)
    if kind == K.HYPOGLYCEMIA:
        return any(_value(b, "glucose", 99) < 54 for _, b in messages)
    raise AssertionError(kind)


class _Recorder(io.StringIO):
    """Stands in for the broker connection and the progress stream: what happened, when."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self.clock = clock
        self.counts = publish.Counts()
        self.log: list[tuple[float, str]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self.counts.sent += 1
        self.counts.acked += 1
        self.log.append((self.clock[0], topic))

    def flush(self, timeout: float = 0) -> bool:  # type: ignore[override]
        return True

    def write(self, text: str) -> int:
        if text.strip():
            self.log.append((self.clock[0], text.strip()))
        return len(text)


def test_notes_are_printed_when_their_time_comes_between_the_frames() -> None:
    clock = [1000.0]
    recorder = _Recorder(clock)

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    publish.run(recorder, [], live=[(1_002_000, "a", b"{}", 1, False),  # type: ignore[arg-type]
                                    (1_006_000, "b", b"{}", 1, False)],
                notes=[(1_004_000, "sim: live demo note")], clock=lambda: clock[0], sleep=sleep,
                progress=publish.Progress(stream=recorder, every_s=3600))
    assert [(round(t, 3), what) for t, what in recorder.log[:3]] == [
        (1002.0, "a"), (1004.0, "sim: live demo note"), (1006.0, "b")]


@pytest.mark.slow
def test_live_demo_on_a_compressed_clock_sends_its_criticals_and_the_day(broker: Broker) -> None:
    pop = rhythm.for_live_demo(population.build(scenarios.load("demo"), seed=41))
    listener = Listener(broker, pop)
    wall0 = time.time()
    start = datetime.fromtimestamp(wall0, SEOUL)
    end = start + timedelta(minutes=20)
    schedule = list(takewhile(lambda i: i.start < end, rhythm.schedule(pop, start, 41)))
    frames = generate.frames(pop, start, end, live_start=start, backlog_until=start,
                             extra=iter(schedule))
    notes = ((int(i.start.timestamp() * 1000), rhythm.note(i, pop)) for i in schedule)
    out = io.StringIO()
    publisher = publish.Publisher(Settings(mqtt_url=broker.url).mqtt,
                                  f"live-demo-{uuid.uuid4().hex[:6]}")
    publisher.connect()
    try:
        counts = publish.run(publisher, (), live=frames, notes=notes,
                             progress=publish.Progress(stream=out, every_s=3600),
                             clock=lambda: wall0 + (time.time() - wall0) * SPEEDUP,
                             sleep=lambda seconds: time.sleep(seconds / SPEEDUP))
        assert counts.failed == 0 and counts.acked == counts.sent
        wait_until(lambda: len(listener.topics()) >= counts.sent - 40, 10, "the messages")
    finally:
        publisher.close()
        listener.close()
    warmup = [i for i in schedule if i.start < start + timedelta(minutes=15)]
    assert len(warmup) >= 4 and {i.severity for i in warmup} == {"critical"}
    for inj in warmup:
        assert _shows(inj.kind, listener.of(inj.enrollee)), inj
    assert out.getvalue().count("sim: live demo ") == len(schedule)
    # The homes live their day meanwhile: band uploads every 15 min, zigbee motion.
    bands = {index for index, topic, _ in listener.received if topic.endswith("-wear/reading")}
    assert len(bands) >= 3
    assert sum(topic.startswith("zigbee2mqtt/") for topic in listener.topics()) >= 20


@pytest.mark.slow
def test_live_demo_through_ingest_opens_the_alerts(
    db_url: str, broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A rhythm a test can wait for: a critical at +2 s, +5 s and +8 s.
    monkeypatch.setattr(rhythm, "DEMO", rhythm.Rhythm(first_after_s=(2, 2), warmup_s=60,
                                                      warmup_gap_s=(3, 3)))
    provision(db_url, population.build(scenarios.load("demo"), seed=43))  # ingest knows them
    ingest = IngestProcess(db_url, broker.url, tmp_path / "ingest")
    ingest.start()
    truth_file = tmp_path / "truth.jsonl"
    try:
        code = main(["--scenario", "demo", "--seed", "43", "--backfill-days", "0",
                     "--live-seconds", "11", "--live-demo", "--ground-truth", str(truth_file)],
                    Settings(database_url=db_url, mqtt_url=broker.url))
        err = capsys.readouterr().err
        assert code == 0, err
        assert "sim: live demo: simulating 6 households live" in err
        truths = scenarios.read_jsonl(truth_file.read_bytes().splitlines())
        live = [t for t in truths if t["kind"] in rhythm.WARMUP_KINDS]
        assert len(live) == 3 and err.count("sim: live demo ") == 3
        with psycopg.connect(db_url, autocommit=True) as conn:
            def opened() -> set[tuple[int, str]]:
                rows = conn.execute("SELECT enrollee_id, kind FROM alerts").fetchall()
                return {(int(e), str(k)) for e, k in rows}

            wanted = {(int(t["enrollee_id"]), str(t["kind"])) for t in live}
            wait_until(lambda: wanted <= opened(), 30, f"alerts {wanted}")
        assert ingest.alive
    finally:
        ingest.stop()
    assert "Traceback" not in ingest.log()
