"""``dolbom sim``: run a scenario, replay a real data set, or generate load.

    dolbom sim --scenario demo [--backfill-days N] [--speed S] [--live-seconds S] [--live-demo] ...
    dolbom sim replay fitbit|ordonez|kahn --data-dir PATH [--days N]
    dolbom sim load --rate R --devices N --processes P --qos 0|1 --batch K [--seconds S]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, tzinfo
from itertools import takewhile
from pathlib import Path
from typing import NoReturn

from device_sim.encode import Frame
from dolbom.config import Settings
from dolbom.errors import DolbomError
from dolbom.wire import MAX_PAST_AGE

log = logging.getLogger(__name__)
MAX_BACKFILL_DAYS = MAX_PAST_AGE.days - 1  # older data would be quarantined as stale
LIVE_DEMO_PROGRESS_EVERY_S = 300.0  # a demo runs for hours beside the other logs: say little


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Usage(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}-{high}: {text!r}")
        return value

    return parse


def scenario_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dolbom sim", description="Simulate homes of enrollees over MQTT. "
                "Other modes: 'dolbom sim replay --help', 'dolbom sim load --help'.")
    p.add_argument("--scenario", default="demo", help="demo, evaluation, load, or a .toml path")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same messages)")
    p.add_argument("--backfill-days", type=_int_range(0, MAX_BACKFILL_DAYS), default=None,
                   help="days of history to publish first (default: the scenario's)")
    p.add_argument("--speed", type=_positive_float, default=None,
                   help="replay the history S times faster than real time (default: as fast "
                        "as the broker takes it); e.g. 8640 = one day in 10 s")
    p.add_argument("--live-seconds", type=_positive_or_zero, default=None,
                   help="after the history, run live for this long (default: until Ctrl-C)")
    p.add_argument("--ground-truth", type=Path, default=None, metavar="FILE.jsonl",
                   help="write the injected conditions as JSON lines")
    p.add_argument("--provision", action=argparse.BooleanOptionalAction, default=True,
                   help="create the region, users, enrollees and devices first")
    p.add_argument("--bad-rate", type=_rate, default=0.0,
                   help="fraction of messages followed by a bad one (bad input mode)")
    p.add_argument("--live-demo", action="store_true",
                   help="live, keep injecting conditions for as long as the run goes on: a "
                        "critical one every ~3 min for 15 min, then a few an hour (instead of "
                        "the scenario's live_offset ones)")
    return p


def _positive_or_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def replay_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dolbom sim replay",
                description="Replay a real public data set through MQTT, shifted to recent days")
    p.add_argument("dataset", choices=["fitbit", "ordonez", "kahn"])
    p.add_argument("--data-dir", type=Path, required=True,
                   help="the data set's folder, e.g. ../shared/data/fitbit_fitabase")
    p.add_argument("--days", type=_int_range(1, MAX_BACKFILL_DAYS), default=28,
                   help="replay the last N days of each person's data (default 28)")
    p.add_argument("--speed", type=_positive_float, default=None)
    p.add_argument("--ground-truth", type=Path, default=None, metavar="FILE.jsonl",
                   help="write labelled episodes (Kahn hypoglycemia symptoms) as JSON lines")
    p.add_argument("--provision", action=argparse.BooleanOptionalAction, default=True)
    return p


def load_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dolbom sim load", description="Generate MQTT load (for benchmarks)")
    p.add_argument("--rate", type=_positive_float, default=1000.0, help="messages per second")
    p.add_argument("--devices", type=_int_range(1, 1_000_000), default=100)
    p.add_argument("--processes", type=_int_range(1, 64), default=1)
    p.add_argument("--qos", type=_int_range(0, 1), default=1)
    p.add_argument("--batch", type=_int_range(1, 1000), default=1,
                   help="readings per message (1 = single objects, more = arrays)")
    p.add_argument("--seconds", type=_positive_float, default=10.0, help="how long to send")
    p.add_argument("--prefix", default="load", help="device id prefix")
    p.add_argument("--provision", action=argparse.BooleanOptionalAction, default=True)
    return p


def main(argv: Sequence[str], settings: Settings) -> int:
    """Entry point of ``dolbom sim``; returns the exit status (2 for bad input)."""
    argv = list(argv)
    mode = argv[0] if argv and argv[0] in ("replay", "load") else "scenario"
    parser = {"replay": replay_parser, "load": load_parser}.get(mode, scenario_parser)()
    try:
        args = parser.parse_args(argv[1:] if mode != "scenario" else argv)
    except _Usage as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        if mode == "replay":
            from device_sim.replay import run_replay

            return run_replay(args, settings)
        if mode == "load":
            from device_sim.load import run_cli

            return run_cli(args, settings)
        return run_scenario(args, settings)
    except DolbomError as error:  # bad input, or a broker or database that cannot be reached
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2


def run_scenario(args: argparse.Namespace, settings: Settings) -> int:
    from device_sim import generate, publish, scenarios
    from device_sim.model import Injection
    from device_sim.population import build
    from device_sim.provision import provision
    from device_sim.scenarios import rhythm

    scenario = scenarios.load(args.scenario)
    population = build(scenario, args.seed)
    tz = population.people[0].tz
    now = datetime.now(tz)
    if args.live_demo:
        population = rhythm.for_live_demo(population)

    def extra() -> Iterator[Injection]:
        if args.live_demo:
            yield from rhythm.schedule(population, now, args.seed, rhythm.DEMO)

    days = scenario.history_days if args.backfill_days is None else args.backfill_days
    days = min(days, MAX_BACKFILL_DAYS)
    start = now - timedelta(days=days)
    origin = scenarios.origin_for(start, scenario.timezone)
    live = args.live_seconds
    end = now + timedelta(seconds=live) if live is not None else now + timedelta(days=3650)
    mapping: dict[str, int] | None = None
    if args.provision:
        mapping = provision(settings.database_url, population,
                            enrolled_at=origin - timedelta(days=1))
        print(f"sim: provisioned {len(mapping)} enrollees in region {population.region!r}; "
              f"care worker login {population.care_workers[0]!r}"
              if population.care_workers else "sim: provisioned", file=sys.stderr)
    if args.ground_truth:
        horizon = end if live is not None else now + timedelta(days=1)
        truths = scenarios.ground_truth(population, start, horizon, origin=origin,
                                        live_start=now, extra=extra())
        with args.ground_truth.open("wb") as out:
            count = scenarios.write_jsonl(truths, out, mapping)
        print(f"sim: wrote {count} ground-truth records to {args.ground_truth}", file=sys.stderr)
    # The past (backfill, paced by --speed) and the present (on time) go out interleaved, so
    # live injections raise alerts on time even while a long history is still being sent.
    # Both see the live demo's schedule: today is built once in each, with the same conditions.
    history: Iterable[Frame] = generate.frames(population, start, now, origin=origin,
                                               live_start=now, backlog_until=now, extra=extra())
    live_frames: Iterable[Frame] = generate.frames(population, now, end, origin=origin,
                                                   live_start=now, backlog_until=now,
                                                   extra=extra())
    if args.bad_rate:
        history = _with_faults(history, args.bad_rate, args.seed, tz)
        live_frames = _with_faults(live_frames, args.bad_rate, args.seed + 1, tz)
    notes: Iterable[tuple[int, str]] = ()
    progress_every_s = publish.PROGRESS_EVERY_S
    if args.live_demo:
        print(f"sim: live demo: {rhythm.DEMO.describe(len(population.people))} "
              f"(seed {args.seed})", file=sys.stderr)
        notes = ((int(i.start.timestamp() * 1000), rhythm.note(i, population))
                 for i in takewhile(lambda i: i.start < end, extra()))
        progress_every_s = LIVE_DEMO_PROGRESS_EVERY_S
    return publish.publish_to_broker(settings.mqtt, f"dolbom-sim-{population.name}", history,
                                     live=live_frames, speed=args.speed, tz=tz, notes=notes,
                                     progress_every_s=progress_every_s)


def _with_faults(frames: Iterable[Frame], rate: float, seed: int, tz: tzinfo) -> Iterator[Frame]:
    from device_sim import faults
    from device_sim.model import SimMessage

    messages = (SimMessage(topic, payload, datetime.fromtimestamp(sent_ms / 1000, tz), qos, retain)
                for sent_ms, topic, payload, qos, retain in frames)
    for message in faults.with_faults(messages, rate, seed):
        yield (int(message.sent_at.timestamp() * 1000), message.topic, message.payload,
               message.qos, message.retain)
