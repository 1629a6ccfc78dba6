"""A read-only database (maintenance, or a failover to a standby): an alert action answers a
clear JSON 503 with Retry-After, changes nothing, and works again once writes are allowed."""

from __future__ import annotations

import logging

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from dolbom.config import Settings
from tests.api.conftest import World, open_alert
from tests.conftest import ADMIN_URL


def set_read_only(db_url: str, on: bool) -> None:
    """For sessions that start from now on (the app's pool opens its own after this)."""
    name = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    setting = "SET default_transaction_read_only = on" if on else \
        "RESET default_transaction_read_only"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} " + setting).format(sql.Identifier(name)))


def test_alert_action_on_a_read_only_database_is_a_clear_503(
    settings: Settings, db_url: str, world: World, db: psycopg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alert_id = open_alert(db, world.enrollees["a1"]).alert_id
    h = world.headers("cw_a1")
    set_read_only(db_url, True)
    with TestClient(create_app(settings)) as client:
        caplog.set_level(logging.WARNING)
        refused = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h,
                              json={"note": "calling now"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/json")
        assert "read-only" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) > 0
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        status = db.execute("SELECT status FROM alerts WHERE id = %s", (alert_id,)).fetchone()
        assert status == ("open",)
        # A read of health data must be audited; without the audit row it is refused too.
        vitals = client.get(f"/v1/enrollees/{world.enrollees['a1']}/readings?metric=heart_rate",
                            headers=h)
        assert vitals.status_code == 503 and "read-only" in vitals.json()["detail"]
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"

        # Writable again: the pool's sessions that began read-only must not keep refusing.
        set_read_only(db_url, False)
        answers = []
        for _attempt in range(5):  # a client retries after a 503, as Retry-After says
            answer = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h,
                                 json={"note": "calling now"})
            answers.append(answer.status_code)
            if answer.status_code != 503:
                break
        assert answers[-1] == 200, answers
        assert answers.count(503) <= 3, answers  # at most the pool's sessions from before
    status = db.execute("SELECT status FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert status == ("acknowledged",)
