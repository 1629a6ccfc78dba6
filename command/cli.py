"""The ``dolbom`` command (CONTRACT §4)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import ValidationError

from dolbom import __version__
from dolbom.config import Settings, get_settings
from dolbom.errors import DolbomError
from dolbom.logs import configure

log = logging.getLogger("dolbom")


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--now must be ISO 8601 with an offset, e.g. 2026-11-24T08:00:00+09:00: {text!r}"
        ) from error
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--now needs a UTC offset, e.g. +09:00: {text!r}")
    return value


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from store.db import ensure_database
    from store.migrate import migrate

    if ensure_database(settings.database_url):
        print(f"created database {settings.database_display()}")
    applied = migrate(settings.database_url)
    if applied:
        print(f"applied migrations {', '.join(f'{v:04d}' for v in applied)}")
    else:
        print("database is up to date")
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.service import run

    run(settings)
    return 0


def cmd_analytics(args: argparse.Namespace, settings: Settings) -> int:
    from analytics.service import run
    from command.system_jobs import system_jobs

    run(settings, once=args.once, now=args.now, system_jobs=system_jobs(settings))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from api.server import run

    run(settings)
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from command.up import run

    return run(settings, demo=args.demo)


def cmd_sim(args: argparse.Namespace, settings: Settings) -> int:
    from device_sim.cli import main as sim_main

    return sim_main(args.sim_args, settings)


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from store.accounts import create_user
    from store.db import transaction

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with transaction(settings.database_url) as conn:
        user_id = create_user(conn, args.name, password, args.role, args.region)
    print(f"created user {args.name} (id {user_id}, role {args.role})")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from reports.cli import run

    return run(settings, args)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from store.backup import backup

    size = backup(settings.database_url, Path(args.file))
    print(f"wrote {args.file} ({size} bytes)")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from store.backup import restore

    restore(settings.database_url, Path(args.file))
    print(f"restored {args.file} into {settings.database_display()}")
    return 0


def cmd_device_credentials(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from command.broker_auth import issue_credentials
    from store.db import connect
    from store.devices import is_provisioned

    if not args.unprovisioned:
        with connect(settings.database_url, autocommit=True) as conn:
            provisioned = is_provisioned(conn, args.device_id)
        if not provisioned:
            print(f"dolbom: device {args.device_id!r} is not provisioned (POST /v1/devices first)",
                  file=sys.stderr)
            return 2
    password = issue_credentials(Path(args.passwd_file), args.device_id)
    print(f"MQTT username: {args.device_id}")
    print(f"MQTT password: {password}")
    print(f"(stored hashed in {args.passwd_file}; reload the broker: kill -HUP <mosquitto pid>)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dolbom", description="Dolbom: health monitoring of older adults living at home"
    )
    parser.add_argument("--version", action="version", version=f"dolbom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run broker, database, ingest, analytics and API together")
    up.add_argument("--demo", action="store_true", help="seed a demo region and run the simulator")
    up.set_defaults(func=cmd_up)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("ingest", help="run the MQTT ingest service").set_defaults(func=cmd_ingest)

    analytics = sub.add_parser("analytics", help="run the analytics scheduler")
    analytics.add_argument("--once", action="store_true", help="score what is pending and exit")
    analytics.add_argument("--now", type=_parse_now, default=None,
                           help="data time to score as of (ISO 8601 with offset)")
    analytics.set_defaults(func=cmd_analytics)

    sub.add_parser("api", help="run the HTTP API and web app").set_defaults(func=cmd_api)

    sim = sub.add_parser("sim", help="device simulator (dolbom sim --help)", add_help=False)
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    sim.set_defaults(func=cmd_sim)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a user; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["care_worker", "center_staff", "admin"])
    add.add_argument("--region", type=int, default=None, help="region id (care workers, staff)")
    add.set_defaults(func=cmd_user_add)

    report = sub.add_parser("report", help="regional report for a period")
    report.add_argument("region", help="region id")
    report.add_argument("period", help="YYYY-MM or YYYY-Www")
    report.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    report.add_argument("-o", "--output", default=None, help="output file (default stdout)")
    report.set_defaults(func=cmd_report)

    device = sub.add_parser("device", help="device administration")
    device_sub = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    creds = device_sub.add_parser("credentials", help="issue a device's MQTT password")
    creds.add_argument("device_id")
    creds.add_argument("--passwd-file", default="deploy/mosquitto/passwd",
                       help="Mosquitto password file to update")
    creds.add_argument("--unprovisioned", action="store_true",
                       help="skip the check that the device is provisioned")
    creds.set_defaults(func=cmd_device_credentials)

    backup = sub.add_parser("backup", help="dump the database to FILE (pg_dump custom format)")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a dump made by dolbom backup")
    restore.add_argument("file")
    restore.set_defaults(func=cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:
        # argparse's REMAINDER refuses options right after the subcommand ("sim --scenario"):
        # hand everything after "sim" to the simulator's own parser.
        args = argparse.Namespace(func=cmd_sim, sim_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        print(f"dolbom: invalid configuration {where}: {first.get('msg')}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, settings)
    except DolbomError as error:
        print(f"dolbom: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the database went away, is read-only or full: one line
        from store.db import refusal_line

        line = refusal_line(error, settings.database_url)
        if line is None:
            raise
        print(f"dolbom: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
