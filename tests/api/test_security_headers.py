"""Security headers on every kind of answer, the API docs without CDN or inline script, and the
CSRF check of the web app's form posts (issue 12)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.middleware import CONTENT_SECURITY_POLICY, with_security_headers
from api.web.csrf import CSRF_COOKIE, CSRF_FIELD
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"
ORIGIN = "http://testserver"  # TestClient's own origin


def assert_secured(response: httpx.Response, cache: str = "no-store") -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, response.url
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == cache, response.url
    assert len(headers.get_list("content-security-policy")) == 1


def test_the_policy_is_strict() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_json_answers_and_errors_carry_the_headers(client: TestClient, world: World) -> None:
    ok = client.get("/v1/alerts", headers=world.headers("cw_a1"))
    assert ok.status_code == 200
    assert_secured(ok)
    unauthenticated = client.get("/v1/enrollees")
    assert unauthenticated.status_code == 401
    assert_secured(unauthenticated)
    invalid = client.get("/v1/alerts?limit=0", headers=world.headers("cw_a1"))
    assert invalid.status_code == 422
    assert_secured(invalid)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert_secured(missing)
    too_large = client.post("/v1/regions", content=b"x" * (1024 * 1024 + 1),
                            headers={**world.headers("admin"), "Content-Type": "application/json"})
    assert too_large.status_code == 413
    assert_secured(too_large)
    assert_secured(client.get("/healthz"))
    assert_secured(client.get("/openapi.json"))


def test_pages_and_files(client: TestClient, world: World) -> None:
    login = client.get("/app/login")
    assert login.status_code == 200
    assert_secured(login)
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    inbox = client.get("/app")
    assert inbox.status_code == 200
    assert_secured(inbox)
    # Files that carry nobody's data may be kept by a browser, which asks again (ETag).
    css = client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["etag"]
    assert_secured(css, cache="no-cache")
    bundle = client.get("/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert_secured(bundle, cache="no-cache")


def test_a_response_may_name_its_own_policy_but_not_its_caching() -> None:
    own = [(b"content-security-policy", b"default-src 'none'"), (b"Cache-Control", b"max-age=600")]
    private = dict(with_security_headers(own, "/v1/alerts"))
    assert private[b"content-security-policy"] == b"default-src 'none'"
    assert private[b"cache-control"] == b"no-store" and b"Cache-Control" not in private
    public = dict(with_security_headers(own, "/static/app.css"))
    assert public[b"Cache-Control"] == b"max-age=600" and b"cache-control" not in public


def test_the_stream_keeps_streaming_with_the_headers(live_server: LiveServer, world: World,
                                                     db: psycopg.Connection) -> None:
    with httpx.Client(timeout=httpx.Timeout(5, read=10)) as http, http.stream(
        "GET", f"{live_server.url}/v1/alerts/stream", headers=world.headers("cw_a1")
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_secured(response)
        lines = response.iter_lines()
        assert any("connected" in line for line in lines if line.startswith(":"))
        alert_id = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
        deadline = time.monotonic() + 10
        event: list[str] = []
        for line in lines:
            if (line == "" and "event: alert" in event) or time.monotonic() > deadline:
                break
            event = [] if line == "" else [*event, line]
        assert "event: alert" in event, event
        assert any(line.startswith("data: ") and f'"id":{alert_id}' in line for line in event)


def test_docs_load_nothing_from_elsewhere_and_run_no_inline_script(client: TestClient) -> None:
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = client.get(path)
        assert page.status_code == 200
        assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
        assert f'src="/docs-assets/{asset}"' in page.text
        assert client.get(f"/docs-assets/{asset}").status_code == 200
        for src in re.findall(r'src="(/static/[^"]+)"', page.text):
            assert client.get(src).status_code == 200
    assert_secured(client.get("/docs"))
    redoc = client.get("/redoc").headers["content-security-policy"]
    assert "script-src 'self';" in redoc and "style-src 'self' 'unsafe-inline'" in redoc
    assert "frame-ancestors 'none'" in redoc


def test_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        for attrs, _body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S):
            assert "src=" in attrs or 'type="application/json"' in attrs, template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=|javascript:", text), template.name


# CSRF


def _login_form(client: TestClient) -> str:
    page = client.get("/app/login")
    match = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert match, "the login form has no CSRF field"
    assert client.cookies.get(CSRF_COOKIE) == match.group(1)
    return match.group(1)


def _login(client: TestClient, token: str | None, **headers: str) -> httpx.Response:
    form = {"username": "cw_a1", "password": PASSWORD}
    if token is not None:
        form[CSRF_FIELD] = token
    return client.post("/app/login", data=form, headers=headers, follow_redirects=False)


def test_the_csrf_cookie(client: TestClient) -> None:
    page = client.get("/app/login")
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "Path=/app" in cookie
    token = _login_form(client)
    assert _login_form(client) == token  # the same token while the cookie lives


def test_login_with_the_token_from_this_site(client: TestClient, world: World) -> None:
    token = _login_form(client)
    ok = _login(client, token, origin=ORIGIN)
    assert ok.status_code == 303 and ok.headers["location"] == "/app"
    assert client.cookies.get("dolbom_token")
    # A browser without Origin (older, or privacy settings) may send Referer instead, or neither.
    client.cookies.delete("dolbom_token")
    assert _login(client, token, referer=f"{ORIGIN}/app/login").status_code == 303
    assert _login(client, token).status_code == 303


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "http://testserver.evil.example"},
    {"origin": "null"},
    {"referer": "https://evil.example/page"},
])
def test_login_from_another_site_is_refused(client: TestClient, world: World,
                                            headers: dict[str, str]) -> None:
    token = _login_form(client)
    refused = _login(client, token, **headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "sent from another site" in refused.text or "다른 사이트" in refused.text
    assert "dolbom_token" not in refused.headers.get("set-cookie", "")
    assert_secured(refused)


def test_login_without_the_right_token_is_refused(client: TestClient, world: World) -> None:
    token = _login_form(client)
    assert _login(client, None, origin=ORIGIN).status_code == 403
    assert _login(client, "x" * 43, origin=ORIGIN).status_code == 403
    client.cookies.delete(CSRF_COOKIE)
    assert _login(client, token, origin=ORIGIN).status_code == 403  # a token with no cookie
    assert not client.cookies.get("dolbom_token")


def test_logout_needs_the_token_too(client: TestClient, world: World) -> None:
    token = _login_form(client)
    assert _login(client, token, origin=ORIGIN).status_code == 303
    inbox = client.get("/app")
    assert f'name="{CSRF_FIELD}" value="{token}"' in inbox.text  # the logout form's
    refused = client.post("/app/logout", headers={"origin": "https://evil.example"},
                          data={CSRF_FIELD: token}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.post("/app/logout", follow_redirects=False).status_code == 403
    assert client.get("/app", follow_redirects=False).status_code == 200  # still logged in
    out = client.post("/app/logout", data={CSRF_FIELD: token}, headers={"origin": ORIGIN},
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/app", follow_redirects=False).status_code == 303


def test_cookie_carried_changes_from_another_site_are_refused(client: TestClient, world: World,
                                                               db: psycopg.Connection) -> None:
    """A POST without a body takes any content type: the session cookie alone must not do."""
    target = f"/v1/users/{world.ids['cw_a2']}/revoke-tokens"
    client.cookies.set("dolbom_token", world.token("admin"))
    for headers in ({"origin": "https://evil.example"}, {"referer": "https://evil.example/x"},
                    {"origin": "null"}):
        refused = client.post(target, headers={"content-type": "text/plain", **headers})
        assert refused.status_code == 403, headers
        assert refused.json() == {"detail": "cross-site request refused: send it from this site"}
        assert_secured(refused)
    version = db.execute("SELECT token_version FROM users WHERE id = %s", (world.ids["cw_a2"],)).fetchone()
    assert client.post(target, headers={"origin": ORIGIN}).status_code == 200  # the app's own
    assert db.execute("SELECT token_version FROM users WHERE id = %s",
                      (world.ids["cw_a2"],)).fetchone() != version
    # A bearer token is never sent by a browser on its own: no origin check for it.
    client.cookies.clear()
    assert client.post(target, headers={**world.headers("admin"),
                                        "origin": "https://tool.example"}).status_code == 200
    # Reads are not changed by it (GET with a foreign Referer is an ordinary link).
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    assert client.get("/v1/alerts", headers={"referer": "https://evil.example/"}).status_code == 200
