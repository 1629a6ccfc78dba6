"""Errors of the reports component; each message is one line a person can act on.

The API maps them to HTTP in ``api/errors.py`` (a bad period 422, anything unknown 404); the
``dolbom report`` command prints the line and exits 2.
"""

from __future__ import annotations

from dolbom.errors import DolbomError


class ReportError(DolbomError):
    """Base of report errors."""


class BadPeriod(ReportError):
    """The period is not ``YYYY-MM`` or ``YYYY-Www`` (or names no real month/week)."""


class UnknownRegion(ReportError):
    """No region with that id (or name)."""


class UnknownEnrollee(ReportError):
    """No enrollee with that id (or none the caller may see)."""


class UnknownStoredReport(ReportError):
    """No stored report with that id."""
