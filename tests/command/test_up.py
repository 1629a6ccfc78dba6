"""``dolbom up`` brings the stack up: migrations, a first admin, and an API that answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Broker, free_port


@pytest.mark.slow
def test_up_runs_the_stack_and_the_api_answers_healthz(
    empty_db_url: str, broker: Broker, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DOLBOM_CONFIG": "/nonexistent/dolbom.toml",
           "DOLBOM_DATABASE_URL": empty_db_url, "DOLBOM_MQTT_URL": broker.url,
           "DOLBOM_API_PORT": str(port), "DOLBOM_DATA_DIR": str(tmp_path / "data"),
           "DOLBOM_INGEST_CLIENT_ID": f"up-test-{port}",
           # Unset environment is production: the API needs a secret of its own.
           "DOLBOM_SECRET_KEY": "up-test-secret-of-at-least-32-characters"}
    env.pop("DOLBOM_ENVIRONMENT", None)
    proc = subprocess.Popen([sys.executable, "-m", "command", "up"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status != 200:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        with psycopg.connect(empty_db_url) as conn:
            admins = conn.execute("SELECT username FROM users WHERE role = 'admin'").fetchall()
            assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 2
        assert admins == [("admin",)]
        password = (tmp_path / "data" / "admin-password").read_text().strip()
        assert len(password) >= 12
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    assert "Dolbom is up: http://127.0.0.1:" in out
    assert "Traceback" not in out
    assert "development secret" not in out
