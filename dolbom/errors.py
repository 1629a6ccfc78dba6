"""Errors shared by every component: each carries one line a person can act on."""


class DolbomError(Exception):
    """Base of Dolbom's own errors; ``str(error)`` is the one line shown to the user."""


class DatabaseUnavailable(DolbomError):
    """PostgreSQL could not be reached."""


class BrokerUnavailable(DolbomError):
    """The MQTT broker could not be reached."""


class ConfigError(DolbomError):
    """The configuration cannot run this component (e.g. no secret outside development)."""
