"""/metrics and /healthz, and the web pages' access rules, language switch and login."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, World, open_alert


def _value(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, prefix
    return float(lines[0].rsplit(" ", 1)[1])


def test_metrics_show_the_whole_system(client: TestClient, world: World, db: psycopg.Connection) -> None:
    db.execute("UPDATE counters SET value = 1234 WHERE name = 'readings_stored'")
    for reason in ("out_of_range", "out_of_range", "unknown_device"):
        db.execute("INSERT INTO quarantine (topic, reason_code, reason, payload) VALUES (%s, %s, %s, %s)",
                   ("dolbom/v1/x/reading", reason, "test", b"{}"))
    open_alert(db, world.enrollees["a1"], kind="fall")
    open_alert(db, world.enrollees["a2"], kind="fall")
    client.get("/v1/alerts", headers=world.headers("admin"))
    body = client.get("/metrics").text  # no token needed
    assert _value(body, "dolbom_readings_stored_total ") == 1234
    assert _value(body, 'dolbom_quarantined_total{reason="out_of_range"}') == 2
    assert _value(body, 'dolbom_quarantined_total{reason="unknown_device"}') == 1
    assert _value(body, 'dolbom_alerts{kind="fall",severity="critical",status="open"}') == 2
    assert _value(body, 'dolbom_api_requests_total{method="GET",route="/v1/alerts",status="200"}') == 1
    assert 'dolbom_api_request_seconds_bucket{le="0.05",method="GET",route="/v1/alerts"}' in body
    assert "dolbom_api_sse_clients 0.0" in body
    assert client.get("/healthz").json() == {"status": "ok", "alert_listener": "listening"}


def test_web_login_logout_and_language(client: TestClient, world: World) -> None:
    page = client.get("/app/login?lang=en")
    assert page.status_code == 200 and "Log in" in page.text
    assert client.cookies.get("dolbom_lang") == "en"
    csrf = {"csrf_token": client.cookies.get("dolbom_csrf")}  # tests/api/test_security_headers.py
    wrong = client.post("/app/login", data={"username": "cw_a1", "password": "nope-nope", **csrf})
    assert wrong.status_code == 401 and "Incorrect username or password" in wrong.text
    ok = client.post("/app/login", data={"username": "cw_a1", "password": PASSWORD, **csrf},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/app"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    inbox = client.get("/app?lang=ko")
    assert inbox.status_code == 200 and "알림함" in inbox.text
    # The web app's cookie works for the API its pages call.
    assert client.get("/v1/alerts").status_code == 200
    out = client.post("/app/logout", data=csrf, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/app", follow_redirects=False).status_code == 303


def test_login_returns_to_the_page_asked_for_and_only_a_local_one(
    client: TestClient, world: World
) -> None:
    asked = client.get("/app/enrollees?q=kim", follow_redirects=False)
    assert asked.status_code == 303
    login_url = asked.headers["location"]
    assert login_url.startswith("/app/login?next=")
    page = client.get(login_url)
    assert 'name="next" value="/app/enrollees?q=kim"' in page.text
    csrf = {"csrf_token": client.cookies.get("dolbom_csrf")}
    back = client.post("/app/login", data={"username": "cw_a1", "password": PASSWORD,
                                            "next": "/app/enrollees?q=kim", **csrf},
                       follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/app/enrollees?q=kim"
    for foreign in ("https://evil.example/app", "//evil.example/app", "/v1/alerts"):
        elsewhere = client.post("/app/login", data={"username": "cw_a1", "password": PASSWORD,
                                                     "next": foreign, **csrf},
                                follow_redirects=False)
        assert elsewhere.headers["location"] == "/app", foreign


def test_web_pages_follow_the_roles(client: TestClient, world: World, db: psycopg.Connection) -> None:
    open_alert(db, world.enrollees["a2"], kind="sos", summary="SOS from a2")
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    assert "SOS from a2" not in client.get("/app").text  # not my enrollee
    assert client.get(f"/app/enrollees/{world.enrollees['a2']}").status_code == 404
    assert client.get(f"/app/enrollees/{world.enrollees['a1']}?days=7").status_code == 200
    assert client.get(f"/app/regions/{world.region_a}").status_code == 403
    client.cookies.set("dolbom_token", world.token("staff_a"))
    assert "SOS from a2" in client.get("/app").text
    region = client.get(f"/app/regions/{world.region_a}")
    assert region.status_code == 200 and "Kim a2" in region.text and "Kim b1" not in region.text
    assert client.get(f"/app/regions/{world.region_b}").status_code == 404
    mine = client.get("/app/region", follow_redirects=False)
    assert mine.headers["location"] == f"/app/regions/{world.region_a}"
    rows = db.execute("SELECT action FROM access_audit WHERE username = 'staff_a'").fetchall()
    actions = [r[0] for r in rows]
    assert "view_inbox" in actions and "view_region_page" in actions


def test_names_cannot_inject_markup(client: TestClient, world: World, db: psycopg.Connection) -> None:
    evil = "<script>alert(1)</script><!--"
    db.execute("UPDATE enrollees SET name = %s WHERE id = %s", (evil, world.enrollees["a1"]))
    open_alert(db, world.enrollees["a1"], kind="sos", summary="</script><img src=x onerror=alert(2)>")
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    for page in (client.get("/app"), client.get(f"/app/enrollees/{world.enrollees['a1']}")):
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
        assert "<!--" not in page.text
