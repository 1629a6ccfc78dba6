"""``dolbom report REGION PERIOD [--format json|csv|pdf] [-o FILE]``.

REGION is a region id or its exact name. Errors are one line (``ReportError``, which the
``dolbom`` command prints and exits 2 on); a bar on stderr follows long regions when stderr
is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from dolbom.config import Settings
from reports.errors import ReportError
from reports.period import parse_period
from reports.render import render
from reports.service import regional_report
from store.db import connect

BAR_WIDTH = 30


class ProgressBar:
    """``[#####.....]  120/1000 enrollees`` redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, label: str = "enrollees") -> None:
        self.stream = stream
        self.label = label
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH if total == 0 else BAR_WIDTH * done // total
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {self.label}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def parse_region(text: str) -> int | str:
    text = text.strip()
    if not text:
        raise ReportError("REGION is empty; give a region id or its name")
    return int(text) if text.isdigit() else text


def run(settings: Settings, args: argparse.Namespace) -> int:
    region = parse_region(str(args.region))
    period = parse_period(str(args.period))
    fmt = args.format or "json"
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():
        raise ReportError(f"cannot write {output}: folder {output.parent} does not exist")
    if output is None and fmt == "pdf" and sys.stdout.isatty():
        raise ReportError("a PDF is not for the terminal: add -o FILE.pdf (or redirect stdout)")
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        with connect(settings.database_url, autocommit=True) as conn:
            report = regional_report(conn, region, period, progress=bar)
    finally:
        if bar:
            bar.close()
    body = render(report, fmt)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        try:
            output.write_bytes(body)
        except OSError as error:
            raise ReportError(f"cannot write {output}: {error.strerror}") from error
        print(f"wrote {output} ({len(body):,} bytes, {report['enrollees']['active']} enrollees)",
              file=sys.stderr)
    return 0
