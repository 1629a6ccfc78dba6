"""Errors of the reports component; each message is one line a person can act on."""

from __future__ import annotations

from dolbom.errors import DolbomError


class ReportError(DolbomError):
    """Base of report errors."""


class BadPeriod(ReportError):
    """The period is not ``YYYY-MM`` or ``YYYY-Www`` (or names no real month/week)."""


class UnknownRegion(ReportError):
    """No region with that id (or name)."""


class UnknownEnrollee(ReportError):
    """No enrollee with that id."""
