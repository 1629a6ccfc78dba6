from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.app import create_app
from dolbom.config import DEV_SECRET, MqttTarget, Settings, redact_url
from dolbom.errors import ConfigError
from tests.conftest import free_port


def test_precedence_is_env_then_toml_then_defaults(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "dolbom.toml"
    toml.write_text('api_port = 9001\nmqtt_url = "mqtt://broker.example:1884"\n')
    monkeypatch.setenv("DOLBOM_CONFIG", str(toml))
    monkeypatch.setenv("DOLBOM_API_PORT", "9002")
    settings = Settings()
    assert settings.api_port == 9002  # env beats toml
    assert settings.mqtt_url == "mqtt://broker.example:1884"  # toml beats default
    assert settings.database_url.startswith("postgresql://")  # default


def test_mqtt_url_is_parsed_with_credentials() -> None:
    target = MqttTarget.parse("mqtt://ingest:s3cret@10.0.0.5:1999")
    assert (target.host, target.port, target.username, target.password, target.tls) == (
        "10.0.0.5", 1999, "ingest", "s3cret", False)
    assert MqttTarget.parse("mqtts://h").port == 8883


def test_bad_urls_and_production_secret_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOLBOM_CONFIG", "/nonexistent/dolbom.toml")
    monkeypatch.delenv("DOLBOM_ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://x/y")
    with pytest.raises(ValidationError, match="mqtt://"):
        Settings(mqtt_url="http://x")
    with pytest.raises(ValidationError, match="DOLBOM_SECRET_KEY"):
        Settings(environment="production", secret_key=DEV_SECRET)
    assert Settings(environment="production", secret_key="k" * 32).environment == "production"
    with pytest.raises(ValidationError, match="DOLBOM_SECRET_KEY"):
        Settings(secret_key=DEV_SECRET)  # no environment is production


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOLBOM_CONFIG", "/nonexistent/dolbom.toml")
    monkeypatch.delenv("DOLBOM_ENVIRONMENT", raising=False)
    monkeypatch.delenv("DOLBOM_SECRET_KEY", raising=False)


@pytest.mark.usefixtures("no_secret_env")
def test_the_development_secret_is_only_for_an_explicit_development_or_test_environment() -> None:
    unset = Settings()
    assert unset.environment == "production"  # unset means production
    with pytest.raises(ConfigError, match="DOLBOM_SECRET_KEY is not set"):
        unset.token_secret()
    with pytest.raises(ConfigError, match="DOLBOM_SECRET_KEY is not set"):
        Settings(secret_key="").token_secret()  # DOLBOM_SECRET_KEY= is unset too
    with pytest.raises(ConfigError, match="at least 32 characters"):
        Settings(secret_key="short-secret").token_secret()
    assert Settings(secret_key="k" * 32).token_secret() == "k" * 32
    for environment in ("development", "test"):
        assert Settings(environment=environment).token_secret() == DEV_SECRET
        assert Settings(environment=environment, secret_key="short").token_secret() == "short"


@pytest.mark.usefixtures("no_secret_env")
def test_the_api_refuses_to_start_without_a_secret_and_warns_in_development(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ConfigError, match="DOLBOM_SECRET_KEY"):
        create_app(Settings())
    with caplog.at_level(logging.WARNING, logger="api.security.tokens"):
        create_app(Settings(environment="development"))
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "public development secret" in caplog.records[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="api.security.tokens"):
        create_app(Settings(environment="development", secret_key="a-real-secret"))
    assert caplog.records == []


def _dolbom(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DOLBOM_ENVIRONMENT", "DOLBOM_SECRET_KEY")}
    return subprocess.run([sys.executable, "-m", "command", *args], capture_output=True, text=True,
                          env={**clean, "DOLBOM_CONFIG": "/nonexistent/dolbom.toml", **env},
                          timeout=60)


def test_the_commands_refuse_in_one_line_without_a_secret_but_the_demo_is_development() -> None:
    # A database nobody listens on: nothing gets that far without a usable secret.
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/x"
    for command in (["api"], ["up"]):
        result = _dolbom(*command, DOLBOM_DATABASE_URL=nowhere)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            "dolbom: DOLBOM_SECRET_KEY is not set: set it (e.g. `openssl rand -hex 32`), or "
            "DOLBOM_ENVIRONMENT=development on a development machine"], command
    # ``up --demo`` sets development itself: it gets past the secret, to the database.
    demo = _dolbom("up", "--demo", DOLBOM_DATABASE_URL=nowhere)
    assert demo.returncode == 2
    assert "cannot connect to PostgreSQL" in demo.stderr and "SECRET" not in demo.stderr
    # So does an explicit development environment; production with the demo still refuses.
    assert "cannot connect" in _dolbom("api", DOLBOM_DATABASE_URL=nowhere,
                                       DOLBOM_ENVIRONMENT="development").stderr
    assert "DOLBOM_SECRET_KEY" in _dolbom("up", "--demo", DOLBOM_DATABASE_URL=nowhere,
                                          DOLBOM_ENVIRONMENT="production").stderr


def test_passwords_are_redacted() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
