from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dolbom.config import DEV_SECRET, MqttTarget, Settings, redact_url


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
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://x/y")
    with pytest.raises(ValidationError, match="mqtt://"):
        Settings(mqtt_url="http://x")
    with pytest.raises(ValidationError, match="DOLBOM_SECRET_KEY"):
        Settings(environment="production", secret_key=DEV_SECRET)
    assert Settings(environment="production", secret_key="k" * 32).environment == "production"


def test_passwords_are_redacted() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
