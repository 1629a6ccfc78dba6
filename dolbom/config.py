"""The one settings class. Nothing else in Dolbom reads ``os.environ``.

Precedence (CONTRACT §4): environment variables (``DOLBOM_*``), then ``dolbom.toml``
(path from ``DOLBOM_CONFIG``, else ``./dolbom.toml``), then the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dolbom.errors import ConfigError

DEV_SECRET = "dolbom-development-secret-change-me"  # public: development and test only
MIN_SECRET_LEN = 32


def _toml_path() -> Path:
    return Path(os.environ.get("DOLBOM_CONFIG", "dolbom.toml"))


class Settings(BaseSettings):
    """Dolbom configuration; every field may come from ``DOLBOM_<FIELD>`` or ``dolbom.toml``."""

    model_config = SettingsConfigDict(env_prefix="DOLBOM_", extra="ignore")

    # Unset means production: the development secret (below) and plain-HTTP cookies are only
    # for an environment that says it is development (``dolbom up --demo`` does) or test.
    environment: Literal["development", "production", "test"] = "production"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/dolbom"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    # mqtts:// verifies the broker's certificate against this CA bundle (PEM), or against the
    # system's trusted CAs when unset.
    mqtt_ca_file: Path | None = None
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    # Behind a load balancer: the proxies (comma-separated IPs, or "*") whose X-Forwarded-For
    # is trusted, so audit rows and the login limiter see the real client, not the proxy.
    api_forwarded_allow_ips: str | None = None
    data_dir: Path = Path(".dolbom")
    log_level: str = "INFO"

    # Signs the API's access tokens (HS256). No default: unset, the API refuses to start unless
    # the environment is development or test, where the public DEV_SECRET stands in (and a
    # warning says so). See ``token_secret``.
    secret_key: str | None = None
    token_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)

    # Ingest tunables (see docs/protocol.md).
    ingest_client_id: str = "dolbom-ingest"
    ingest_shared_group: str | None = None
    ingest_batch_rows: int = Field(default=5000, ge=1)
    ingest_batch_ms: int = Field(default=100, ge=1)
    ingest_max_payload_bytes: int = Field(default=256 * 1024, ge=1024)
    ingest_metrics_port: int | None = None
    # Who published a message (docs/protocol.md, "Publisher identity"): the broker stamps the
    # authenticated username as an MQTT 5 user property (deploy/mosquitto/plugin); ingest
    # quarantines a message whose stamp is not the topic's device (or that device's hub).
    # "off": ignore stamps; "check": verify a stamp when present; "require": a message without
    # one is quarantined too (production with the plugin loaded).
    ingest_device_identity: Literal["off", "check", "require"] = "check"
    ingest_identity_property: str = "dolbom-username"
    # Service accounts allowed to publish for any device (the simulator, a gateway).
    ingest_trusted_publishers: list[str] = Field(default_factory=lambda: ["dolbom-sim"])

    # Analytics: enrollees are split into fixed shards by hash; each worker prefers the shards
    # of its index and takes over a shard nobody has scored for ``analytics_orphan_after_s``.
    analytics_workers: int = Field(default=1, ge=1)
    analytics_worker_index: int = Field(default=0, ge=0)
    analytics_orphan_after_s: int = Field(default=180, ge=30)

    # Retention per data class (docs/operations.md, "Retention"); days, applied daily.
    readings_retention_days: int = Field(default=3 * 365, ge=31)
    events_retention_days: int = Field(default=3 * 365, ge=31)
    quarantine_retention_days: int = Field(default=90, ge=7)
    # Access logs of a system holding sensitive (health) data are kept at least two years
    # (PIPA, Standards for Personal Information Safety Measures, art. 8).
    audit_retention_days: int = Field(default=3 * 365, ge=2 * 365)
    # Resolved alerts and their actions are the care record: kept five years.
    alerts_retention_days: int = Field(default=5 * 365, ge=365)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("postgresql", "postgres"):
            raise ValueError(
                f"DOLBOM_DATABASE_URL must be a postgresql:// URL, got scheme {scheme!r}"
            )
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"DOLBOM_MQTT_URL must be an mqtt:// URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _worker_index_in_range(self) -> Settings:
        if self.analytics_worker_index >= self.analytics_workers:
            raise ValueError(
                f"DOLBOM_ANALYTICS_WORKER_INDEX must be below DOLBOM_ANALYTICS_WORKERS "
                f"({self.analytics_worker_index} >= {self.analytics_workers})"
            )
        return self

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("DOLBOM_SECRET_KEY must be set in production, not to the public "
                             "development secret")
        return self

    def token_secret(self) -> str:
        """The key that signs tokens; ``ConfigError`` when there is no usable one here.

        Outside development and test it must be set, and at least 32 characters: an HS256 key
        shorter than the hash output (256 bits) is weaker than the algorithm (RFC 7518 §3.2).
        """
        if self.secret_key:
            if self.environment == "production" and len(self.secret_key) < MIN_SECRET_LEN:
                raise ConfigError(f"DOLBOM_SECRET_KEY must be at least {MIN_SECRET_LEN} characters "
                                  "(e.g. from `openssl rand -hex 32`)")
            return self.secret_key
        if self.environment in ("development", "test"):
            return DEV_SECRET
        raise ConfigError("DOLBOM_SECRET_KEY is not set: set it (e.g. `openssl rand -hex 32`), or "
                          "DOLBOM_ENVIRONMENT=development on a development machine")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()),
        )

    @property
    def mqtt(self) -> MqttTarget:
        return MqttTarget.parse(self.mqtt_url, ca_file=self.mqtt_ca_file)

    def database_display(self) -> str:
        """The database URL without its password, for messages."""
        return redact_url(self.database_url)


class MqttTarget:
    """Host, port and credentials parsed from ``DOLBOM_MQTT_URL``."""

    def __init__(
        self, host: str, port: int, username: str | None, password: str | None, tls: bool,
        ca_file: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_file = ca_file

    @classmethod
    def parse(cls, url: str, ca_file: Path | None = None) -> MqttTarget:
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=parts.username,
            password=parts.password,
            tls=tls,
            ca_file=ca_file,
        )

    def display(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
