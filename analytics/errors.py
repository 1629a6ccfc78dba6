"""Analytics' domain errors (one line a person can act on)."""

from dolbom.errors import DolbomError


class AnalyticsJobFailed(DolbomError):
    """A job failed during ``dolbom analytics --once``; the log has the traceback."""


class AnalyticsError(DolbomError):
    """The store answered something analytics cannot read (a bug or a schema mismatch)."""
