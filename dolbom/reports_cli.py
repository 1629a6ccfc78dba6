"""``dolbom report REGION PERIOD``: regional reports (issue 7)."""

from __future__ import annotations

import argparse

from dolbom.config import Settings
from dolbom.errors import DolbomError


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from reports.cli import run as reports_run  # type: ignore[import-not-found]
    except ModuleNotFoundError as error:
        raise DolbomError(
            "regional reports are not part of this build yet (issue 7)"
        ) from error
    return int(reports_run(settings, args))
