"""The web app's error pages (api/web/errors.py): under /app an error is an HTML page in the
page's language (a bad path parameter or an unknown page 404, 400, 403, 500, 503), no login a
redirect to the login with ``next``; the API's answers stay JSON."""

from __future__ import annotations

from html.parser import HTMLParser

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.errors import Forbidden
from api.web.errors import safe_next
from api.web.i18n import translator
from tests.api.conftest import World

KO, EN = translator("ko"), translator("en")


class _Text(HTMLParser):
    """The text a person reads (no scripts, styles or attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


# --- error pages under /app (api/web/errors.py): HTML, never the API's JSON


def test_a_bad_path_and_an_unknown_page_are_html_404(client: TestClient, world: World) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    for path in ("/app/enrollees/abc", "/app/enrollees/0", "/app/enrollees/99999999999", "/app/nope",
                 "/app/enrollees/1/nope"):
        response = client.get(path + "?lang=en")
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<h1 id="message">Not found</h1>' in response.text, path
        assert 'href="/app/worklist"' in response.text  # the menu, to go on
        assert "default-src 'self'" in response.headers["content-security-policy"]
    korean = client.get("/app/nope?lang=ko")
    assert KO["not_found"] in korean.text and korean.headers["cache-control"] == "no-store"
    not_allowed = client.post("/app/region")
    assert not_allowed.status_code == 405 and not_allowed.headers["content-type"].startswith("text/html")
    # The API's answers stay JSON.
    assert client.get("/v1/nope").json() == {"detail": "Not Found"}
    assert client.get("/v1/enrollees/abc", headers=world.headers("cw_a1")).status_code == 422
    assert client.get("/static/nope.js").json() == {"detail": "Not Found"}


def test_a_bad_query_is_an_html_400(client: TestClient, world: World) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    response = client.get(f"/app/enrollees/{world.enrollees['a1']}?days=many&lang=en")
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert EN["err_bad_request"] in response.text


def test_forbidden_is_an_html_403(client: TestClient, world: World) -> None:
    async def staff_only() -> None:
        raise Forbidden("this needs the center_staff role or higher")

    client.app.add_api_route("/app/test-forbidden", staff_only)  # type: ignore[attr-defined]
    client.app.add_api_route("/v1/test-forbidden", staff_only)  # type: ignore[attr-defined]
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    page = client.get("/app/test-forbidden?lang=en")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert EN["forbidden"] in page.text and EN["forbidden_hint"] in visible_text(page.text)
    assert client.get("/v1/test-forbidden").json() == {"detail": "this needs the center_staff role or higher"}


def test_a_failure_is_an_html_page_and_stays_json_for_the_api(client: TestClient, world: World) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    async def database_down() -> None:
        raise psycopg.OperationalError("connection refused")

    for prefix in ("/app", "/v1"):
        client.app.add_api_route(f"{prefix}/test-broken", broken)  # type: ignore[attr-defined]
        client.app.add_api_route(f"{prefix}/test-down", database_down)  # type: ignore[attr-defined]
    served = TestClient(client.app, raise_server_exceptions=False)  # type: ignore[arg-type]
    served.cookies.set("dolbom_token", world.token("cw_a1"))
    bug = served.get("/app/test-broken?lang=en")
    assert bug.status_code == 500 and bug.headers["content-type"].startswith("text/html")
    assert EN["err_other"] in bug.text and "a bug" not in bug.text
    down = served.get("/app/test-down?lang=en")
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert EN["err_unavailable"] in down.text
    assert served.get("/v1/test-broken").json() == {"detail": "internal error"}
    assert served.get("/v1/test-down").status_code == 503
    assert "detail" in served.get("/v1/test-down").json()


def test_without_a_login_a_page_goes_to_the_login_and_back(client: TestClient, world: World) -> None:
    for path, location in (
        ("/app", "/app/login"),
        ("/app/region", "/app/login?next=%2Fapp%2Fregion"),
        (f"/app/enrollees/{world.enrollees['a1']}?days=7",
         f"/app/login?next=%2Fapp%2Fenrollees%2F{world.enrollees['a1']}%3Fdays%3D7"),
        ("/app/enrollees/abc", "/app/login?next=%2Fapp%2Fenrollees%2Fabc"),
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == location, path
    client.cookies.set("dolbom_token", world.token("cw_a1") + "x")  # expired or forged: the same
    response = client.get("/app/region", follow_redirects=False)
    assert response.headers["location"] == "/app/login?next=%2Fapp%2Fregion"
    # An unknown page needs no login to say it is unknown (nothing about anyone is in it).
    client.cookies.clear()
    assert client.get("/app/nope").status_code == 404


@pytest.mark.parametrize(("value", "expected"), [
    ("/app", "/app"),
    ("/app/enrollees?q=%EA%B9%80", "/app/enrollees?q=%EA%B9%80"),
    ("/app/worklist?date=2026-11-10&region=3", "/app/worklist?date=2026-11-10&region=3"),
    ("/app/login", None), ("/app/logout", None), ("/application", None), ("/v1/alerts", None),
    ("https://evil.example/app", None), ("//evil.example/app", None), ("/app//evil.example", None),
    ("/app\\..\\evil", None), ("app/enrollees", None), ("/app/x#frag", None), ("/app/\n", None),
    ("javascript:alert(1)", None), ("", None), (None, None), ("/app/" + "x" * 2000, None),
])
def test_safe_next_is_a_local_app_path(value: str | None, expected: str | None) -> None:
    assert safe_next(value) == expected
