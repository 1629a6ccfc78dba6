"""``dolbom up``: the whole system on one machine.

Uses the configured (or localhost) PostgreSQL and MQTT broker when they answer, otherwise
starts embedded ones under the data directory; migrates; makes sure an admin exists; then
runs ingest, analytics and the API (and with ``--demo`` the simulator) as child processes,
restarting a child that dies, until interrupted.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from command.embedded import start_broker, start_postgres, stop_postgres
from device_sim import scenarios
from device_sim.provision import DEMO_PASSWORD
from device_sim.scenarios import rhythm
from dolbom.config import Settings
from dolbom.errors import BrokerUnavailable, DatabaseUnavailable
from dolbom.mqtt import check_broker
from store.accounts import create_user
from store.db import check, ensure_database, transaction
from store.migrate import migrate

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = (1, 2, 5, 10, 30)
DEMO_SCENARIO = "demo"


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env)
        self.started_at = time.monotonic()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _resolve_database(settings: Settings) -> tuple[str, bool]:
    """The database URL to use, and whether an embedded cluster was started."""
    try:
        ensure_database(settings.database_url)
        check(settings.database_url)
        return settings.database_url, False
    except DatabaseUnavailable:
        if "database_url" in settings.model_fields_set:
            raise  # configured explicitly: do not silently use something else
    print("dolbom: no PostgreSQL on localhost; starting an embedded one in "
          f"{settings.data_dir}/postgres", file=sys.stderr)
    url = start_postgres(settings.data_dir)
    ensure_database(url)
    return url, True


def _resolve_broker(settings: Settings) -> tuple[str, subprocess.Popen[bytes] | None]:
    try:
        check_broker(settings.mqtt, timeout=3)
        return settings.mqtt_url, None
    except BrokerUnavailable:
        if "mqtt_url" in settings.model_fields_set:
            raise
    print("dolbom: no MQTT broker on localhost; starting an embedded one", file=sys.stderr)
    return start_broker(settings.data_dir)


def _ensure_admin(db_url: str, data_dir: Path) -> str | None:
    """Create user ``admin`` when the database has no users; return the new password."""
    with transaction(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM users").fetchone()
        if row and row[0]:
            return None
        password = secrets.token_urlsafe(12)
        create_user(conn, "admin", password, "admin")
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = data_dir / "admin-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    return password


def demo_child(exe: list[str], env: dict[str, str]) -> Child:
    """The simulator of ``--demo``: a week of history as fast as the broker takes it, then
    the demo households live, with conditions on the live demo's rhythm until stopped."""
    return Child("sim", [*exe, "sim", "--scenario", DEMO_SCENARIO, "--live-demo"], env=env)


def demo_line(url: str) -> str:
    """The line ``dolbom up --demo`` prints about what the demo does."""
    scenario = scenarios.load(DEMO_SCENARIO)
    return (f"demo: {rhythm.DEMO.describe(scenario.size)}; log in at {url}/app as "
            f"{scenario.care_workers[0]} / {DEMO_PASSWORD}")


def run(settings: Settings, *, demo: bool) -> int:
    env = dict(os.environ)
    if demo and "environment" not in settings.model_fields_set:
        # A demo runs on a development machine: the public development secret may sign its
        # tokens (the API warns that it does). An explicit DOLBOM_ENVIRONMENT still wins.
        settings = settings.model_copy(update={"environment": "development"})
        env["DOLBOM_ENVIRONMENT"] = "development"
    settings.token_secret()  # no usable secret: refuse in one line before starting anything
    db_url, embedded_pg = _resolve_database(settings)
    mqtt_url, broker_proc = _resolve_broker(settings)
    applied = migrate(db_url)
    if applied:
        print(f"dolbom: applied migrations {', '.join(f'{v:04d}' for v in applied)}")
    admin_password = _ensure_admin(db_url, settings.data_dir)

    env.update(DOLBOM_DATABASE_URL=db_url, DOLBOM_MQTT_URL=mqtt_url,
               DOLBOM_API_PORT=str(settings.api_port))
    exe = [sys.executable, "-m", "command"]
    children = [
        Child("ingest", [*exe, "ingest"], env=env),
        Child("analytics", [*exe, "analytics"], env=env),
        Child("api", [*exe, "api"], env=env),
    ]
    if demo:
        children.append(demo_child(exe, env))
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    for child in children:
        child.start()

    url = f"http://{settings.api_host}:{settings.api_port}"
    print(f"\nDolbom is up: {url}/app  (API {url}/v1, docs {url}/docs, metrics {url}/metrics)")
    print(f"  database {db_url.split('@')[-1]}, broker {mqtt_url.split('@')[-1]}")
    if admin_password:
        print(f"  log in as admin / {admin_password} (saved in {settings.data_dir}/admin-password)")
    else:
        print(f"  log in with an existing user; the first admin's password is in "
              f"{settings.data_dir}/admin-password if dolbom up created it")
    if demo:
        print(f"  {demo_line(url)}")
    print("  Ctrl-C stops everything.\n", flush=True)

    try:
        while not stopping:
            time.sleep(0.5)
            for child in children:
                if child.proc is None or child.proc.poll() is None:
                    continue
                code = child.proc.returncode
                if child.name == "sim" and code == 0:
                    child.proc = None  # the scenario finished
                    continue
                delay = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
                log.warning("%s exited with code %s; restarting in %s s", child.name, code, delay)
                time.sleep(delay)
                child.restarts += 1
                child.start()
    finally:
        for child in reversed(children):
            child.stop()
        if broker_proc is not None:
            broker_proc.terminate()
        if embedded_pg:
            stop_postgres(settings.data_dir)
    return 0
