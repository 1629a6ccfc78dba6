"""Embedded services for ``dolbom up`` when no PostgreSQL or broker is configured or running.

PostgreSQL comes from the system's binaries (initdb/pg_ctl) under the data directory;
the broker is Mosquitto if installed, else amqtt (an in-process Python broker, for demos).
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from dolbom.errors import DolbomError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0


class EmbeddedError(DolbomError):
    """An embedded service could not be started."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(preferred: int) -> int:
    if not port_open("127.0.0.1", preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return
        if proc is not None and proc.poll() is not None:
            raise EmbeddedError(f"{what} exited while starting (code {proc.returncode})")
        time.sleep(0.2)
    raise EmbeddedError(f"{what} did not start listening on 127.0.0.1:{port}")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def start_postgres(data_dir: Path, port: int = 5433) -> str:
    """Start (initialising if needed) a PostgreSQL cluster under ``data_dir``; return its URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise EmbeddedError(
            "no PostgreSQL is running on localhost and no initdb/pg_ctl was found; "
            "install PostgreSQL (apt-get install postgresql) or set DOLBOM_DATABASE_URL"
        )
    pgdata = (data_dir / "postgres").resolve()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port(port)
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if as_user:
            shutil.chown(pgdata, "postgres", "postgres")
        log.info("initialising an embedded PostgreSQL cluster in %s", pgdata)
        subprocess.run(
            [*as_user, initdb, "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True, stdout=subprocess.DEVNULL,
        )
    logfile = pgdata / "server.log"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(pgdata), "-l", str(logfile), "-w",
         "-o", f"-p {port} -k /tmp -c listen_addresses=127.0.0.1", "start"],
        check=True, stdout=subprocess.DEVNULL,
    )
    _wait_port(port, "embedded PostgreSQL")
    return f"postgresql://postgres@127.0.0.1:{port}/dolbom"


def stop_postgres(data_dir: Path) -> None:
    pg_ctl = _pg_bin("pg_ctl")
    pgdata = (data_dir / "postgres").resolve()
    if pg_ctl and (pgdata / "postmaster.pid").exists():
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, pg_ctl, "-D", str(pgdata), "-m", "fast", "stop"],
                       check=False, stdout=subprocess.DEVNULL)


def start_broker(data_dir: Path, port: int = 1883) -> tuple[str, subprocess.Popen[bytes]]:
    """Start Mosquitto (or amqtt, for demos) on ``port``; return (URL, process)."""
    port = free_port(port)
    workdir = (data_dir / "broker").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    mosquitto = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if mosquitto:
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\nmax_inflight_messages 0\nmax_queued_messages 0\n"
            # Started as root, Mosquitto drops to the "mosquitto" user, which cannot write a
            # data directory under root's home: it would lose its queue on every restart,
            # saying so only in its own log. Stay the user that owns the directory.
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        proc = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=open(workdir / "mosquitto.log", "ab"))  # noqa: SIM115
        _wait_port(port, "embedded Mosquitto", proc)
        return f"mqtt://127.0.0.1:{port}", proc
    log.warning("Mosquitto is not installed: starting amqtt, an in-process Python broker "
                "fit for demos only (no persistence guarantees, slow)")
    conf = workdir / "amqtt.yaml"
    conf.write_text(
        "listeners:\n  default:\n    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n"
    )
    amqtt = shutil.which("amqtt") or str(Path(sys.executable).with_name("amqtt"))
    proc = subprocess.Popen([amqtt, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=open(workdir / "amqtt.log", "ab"))  # noqa: SIM115
    _wait_port(port, "embedded amqtt broker", proc)
    return f"mqtt://127.0.0.1:{port}", proc
