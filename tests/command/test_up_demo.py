"""``dolbom up --demo`` runs the simulator's live demo and says what it does in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from command.up import demo_child, demo_line
from device_sim.cli import scenario_parser
from tests.conftest import Broker, free_port


def test_the_demo_line_says_what_the_demo_does() -> None:
    line = demo_line("http://127.0.0.1:8000")
    assert line == ("demo: simulating 6 households live; a critical alert every ~3 min for the "
                    "first 15 min, then a few alerts an hour (1-4, mixed kinds and severities); "
                    "log in at http://127.0.0.1:8000/app as carer / dolbom-demo")


def test_the_demo_simulator_runs_live_until_stopped() -> None:
    child = demo_child([sys.executable, "-m", "command"], {})
    assert child.argv[3] == "sim"
    args = scenario_parser().parse_args(child.argv[4:])
    assert args.live_demo and args.scenario == "demo"
    assert args.live_seconds is None  # until Ctrl-C


class _Output:
    """The lines a process writes, read on a thread so that the test can wait for some."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.lines)):
                return True
            time.sleep(0.2)
        return False


@pytest.mark.slow
def test_up_demo_says_so_and_starts_the_live_demo(
    empty_db_url: str, broker: Broker, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DOLBOM_CONFIG": "/nonexistent/dolbom.toml",
           "DOLBOM_DATABASE_URL": empty_db_url, "DOLBOM_MQTT_URL": broker.url,
           "DOLBOM_API_PORT": str(port), "DOLBOM_DATA_DIR": str(tmp_path / "data"),
           "DOLBOM_INGEST_CLIENT_ID": f"up-demo-test-{port}"}
    env.pop("DOLBOM_ENVIRONMENT", None)
    proc = subprocess.Popen([sys.executable, "-m", "command", "up", "--demo"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out = _Output(proc)
    try:
        assert out.wait_for("  demo: simulating 6 households live; a critical alert every", 90), \
            "\n".join(out.lines)
        assert out.wait_for("sim: live demo: simulating 6 households live", 90), \
            "\n".join(out.lines)
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not any("Traceback" in line for line in out.lines), "\n".join(out.lines)
