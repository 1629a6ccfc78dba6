"""The simulator's errors; each is one line a person can act on (the CLI prints it, exit 2)."""

from dolbom.errors import DolbomError


class SimError(DolbomError):
    """Bad simulator input: a scenario file, a data set or a command-line value."""


class ScenarioError(SimError):
    """A scenario file is missing or invalid."""


class ReplayDataError(SimError):
    """A real data set cannot be read where it was said to be."""
