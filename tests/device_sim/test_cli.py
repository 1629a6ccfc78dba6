"""``dolbom sim`` end to end: provisioning into a real database, publishing to a real broker."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim import population, scenarios
from device_sim.cli import main
from device_sim.provision import DEMO_PASSWORD, provision
from dolbom.accounts import verify_password
from dolbom.config import Settings
from tests.conftest import Broker

SCENARIO = """
[scenario]
name = "clitest"
region = "CLI 시험 보건소"
history_days = 1
care_workers = ["cli-carer"]
staff = ["cli-staff"]

[[group]]
profile = "diabetic"
count = 2

[[injection]]
kind = "hypoglycemia"
enrollee = 0
day = 0
at = "23:50"

[[injection]]
kind = "sos"
enrollee = 1
live_offset = "1s"
"""


class Collector:
    """Subscribes to everything on the broker and keeps what our devices sent."""

    def __init__(self, broker: Broker, marker: str) -> None:
        self.marker = marker
        self.topics: list[str] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *a: c.subscribe([("dolbom/#", 1), ("zigbee2mqtt/#", 1)])
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.ready.wait(5)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.marker in msg.topic and not msg.retain:
            with self.lock:
                self.topics.append(msg.topic)

    def wait_for(self, count: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.topics) >= count:
                    break
            time.sleep(0.05)
        return len(self.topics)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _settings(db_url: str, broker: Broker) -> Settings:
    return Settings(database_url=db_url, mqtt_url=broker.url)


@pytest.mark.slow
def test_sim_provisions_and_publishes_history_then_live(
    db_url: str, broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario_file = tmp_path / "clitest.toml"
    scenario_file.write_text(SCENARIO, encoding="utf-8")
    truth_file = tmp_path / "truth.jsonl"
    collector = Collector(broker, "clitest31-")
    try:
        code = main(["--scenario", str(scenario_file), "--seed", "31", "--backfill-days", "1",
                     "--live-seconds", "3", "--ground-truth", str(truth_file)],
                    _settings(db_url, broker))
        err = capsys.readouterr().err
        assert code == 0, err
        done = [line for line in err.splitlines() if line.startswith("sim: done")][-1]
        sent = int(done.split()[2])
        assert done.endswith(f"{sent} acknowledged")
        assert sent > 300
        # Retained availability messages may be delivered as retained on later runs.
        assert collector.wait_for(sent - 20) >= sent - 20
        assert any(t.endswith("-spk/event") for t in collector.topics)
        assert any(t.endswith("-glu/reading") for t in collector.topics)
    finally:
        collector.close()
    truths = scenarios.read_jsonl(truth_file.read_bytes().splitlines())
    assert {t["kind"] for t in truths} == {"hypoglycemia", "sos"}
    with psycopg.connect(db_url) as conn:
        ids = {t["enrollee_id"] for t in truths}
        names = conn.execute("SELECT name FROM enrollees WHERE id = ANY(%s)",
                             (list(ids),)).fetchall()
        assert len(names) == 2
        devices = conn.execute("SELECT count(*) FROM devices").fetchone()
        assert devices is not None and devices[0] == 2 * 12


def test_provision_is_idempotent(db_url: str) -> None:
    pop = population.build(scenarios.load("demo"), seed=3)
    first = provision(db_url, pop)
    second = provision(db_url, pop)
    assert first == second and len(first) == 6
    with psycopg.connect(db_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM enrollees), (SELECT count(*) FROM devices),"
            " (SELECT count(*) FROM users), (SELECT count(*) FROM regions)").fetchone()
        assert counts == (6, 6 * 12, 2, 1)
        row = conn.execute("SELECT password_hash, role, region_id FROM users"
                           " WHERE username = 'carer'").fetchone()
        assert row is not None and verify_password(row[0], DEMO_PASSWORD)
        assert row[1] == "care_worker"
        rooms = conn.execute("SELECT room, count(*) FROM devices WHERE kind = 'motion_sensor'"
                             " GROUP BY room ORDER BY room").fetchall()
        assert rooms == [("bathroom", 6), ("bedroom", 6), ("kitchen", 6), ("living", 6)]
        enrollee = conn.execute("SELECT name, conditions, care_worker_id FROM enrollees"
                                " WHERE id = %s", (first[pop.people[1].key],)).fetchone()
        assert enrollee is not None
        assert enrollee[0] == pop.people[1].name and enrollee[1] == ["hypertension"]
        assert enrollee[2] is not None


@pytest.mark.parametrize("argv", [
    ["--bad-rate", "2"],
    ["--scenario", "no-such-scenario"],
    ["--backfill-days", "45"],
    ["--speed", "-3"],
    ["--frobnicate"],
    ["load", "--qos", "2"],
    ["load", "--devices", "zero"],
    ["replay", "garmin", "--data-dir", "/tmp"],
    ["replay", "fitbit", "--data-dir", "/nonexistent/fitbit"],
])
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:9/none",
                        mqtt_url="mqtt://127.0.0.1:9")
    assert main(argv, settings) == 2
    err = capsys.readouterr().err.strip()
    assert err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_unreachable_broker_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(mqtt_url="mqtt://127.0.0.1:9")
    assert main(["--no-provision", "--backfill-days", "0", "--live-seconds", "0"], settings) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "MQTT broker" in err[0]


def test_dolbom_command_passes_options_to_the_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from command.cli import main as dolbom_main

    assert dolbom_main(["sim", "--bad-rate", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--bad-rate" in err[0]
    assert dolbom_main(["sim", "--help"]) == 0
    assert "--backfill-days" in capsys.readouterr().out
