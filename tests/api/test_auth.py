"""Login, tokens and the failed-login rate limit (shared through PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from api.app import create_app
from api.errors import TooManyAttempts
from api.security import limiter as login_limit
from api.security.limiter import LoginLimiter
from dolbom.config import Settings
from tests.api.conftest import PASSWORD, SECRET, LiveServer, World


def test_login_and_use_token(client: TestClient, world: World) -> None:
    response = client.post("/v1/auth/token", data={"username": "cw_a1", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], issuer="dolbom")
    assert claims["role"] == "care_worker" and claims["exp"] - claims["iat"] == 30 * 60
    assert claims["ver"] == 0  # the user's token version (migration 0051)
    me = client.get("/v1/enrollees", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert [e["id"] for e in me.json()["items"]] == [world.enrollees["a1"]]


def test_bad_and_expired_tokens(client: TestClient, world: World) -> None:
    now = datetime.now(UTC)
    expired = jwt.encode({"iss": "dolbom", "sub": str(world.ids["admin"]), "name": "admin", "role": "admin",
                          "region": None, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)},
                         SECRET, algorithm="HS256")
    forged = jwt.encode({"iss": "dolbom", "sub": "1", "name": "admin", "role": "admin", "region": None,
                         "exp": now + timedelta(hours=1)}, "another-secret-of-enough-length-x",
                        algorithm="HS256")
    unsigned = jwt.encode({"iss": "dolbom", "sub": "1", "name": "x", "role": "admin",
                           "exp": now + timedelta(hours=1)}, None, algorithm="none")
    # Rightly signed, but without a token version (as issued before migration 0051).
    unversioned = jwt.encode({"iss": "dolbom", "sub": str(world.ids["admin"]), "name": "admin",
                              "role": "admin", "region": None, "exp": now + timedelta(hours=1)},
                             SECRET, algorithm="HS256")
    # A version the user does not have (a token from before a restore, or forged with the key).
    future = jwt.encode({"iss": "dolbom", "sub": str(world.ids["admin"]), "name": "admin",
                         "role": "admin", "region": None, "ver": 7, "exp": now + timedelta(hours=1)},
                        SECRET, algorithm="HS256")
    for token in (expired, forged, unsigned, unversioned, future, "abc"):
        response = client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_failed_logins_are_rate_limited(client: TestClient, world: World) -> None:
    for _ in range(login_limit.MAX_FAILURES):
        failed = client.post("/v1/auth/token", data={"username": "cw_a2", "password": "wrong-pw"})
        assert failed.status_code == 401
    locked = client.post("/v1/auth/token", data={"username": "cw_a2", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert locked.json() == {"detail": "too many failed logins; try again later"}
    # Other users from the same address are not locked out by it.
    assert client.post("/v1/auth/token", data={"username": "cw_a1", "password": PASSWORD}).status_code == 200
    # Unknown users fail the same way as wrong passwords.
    unknown = client.post("/v1/auth/token", data={"username": "nobody", "password": "whatever-pw"})
    assert unknown.status_code == 401 and unknown.json() == {"detail": "incorrect username or password"}


def test_a_successful_login_clears_its_own_failures(client: TestClient, world: World,
                                                    db: psycopg.Connection) -> None:
    for _ in range(login_limit.MAX_FAILURES - 1):
        client.post("/v1/auth/token", data={"username": "cw_a2", "password": "wrong-pw"})
    assert client.post("/v1/auth/token", data={"username": "cw_a2", "password": PASSWORD}).status_code == 200
    assert db.execute("SELECT count(*) FROM login_failures WHERE username = 'cw_a2'").fetchone() == (0,)
    for _ in range(login_limit.MAX_FAILURES - 1):  # a fresh allowance
        assert client.post("/v1/auth/token",
                           data={"username": "cw_a2", "password": "wrong-pw"}).status_code == 401


@pytest.fixture
def second_client(settings: Settings) -> Iterator[TestClient]:
    """Another app on the same database: another API process behind the load balancer."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_limit_is_shared_by_api_processes(
    client: TestClient, second_client: TestClient, world: World
) -> None:
    for attempt in range(login_limit.MAX_FAILURES):
        one = client if attempt % 2 else second_client
        assert one.post("/v1/auth/token",
                        data={"username": "cw_a2", "password": "wrong-pw"}).status_code == 401
    for one in (client, second_client):
        locked = one.post("/v1/auth/token", data={"username": "cw_a2", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0


def test_guesses_spread_over_addresses_are_limited_per_username(settings: Settings, world: World) -> None:
    """Each address stays under its own limit; the username's limit (20) still holds."""
    server = LiveServer(settings.model_copy(update={"api_forwarded_allow_ips": "127.0.0.1"}))
    server.start()
    try:
        def login(username: str, password: str, address: str) -> httpx.Response:
            return httpx.post(f"{server.url}/v1/auth/token",
                              data={"username": username, "password": password},
                              headers={"X-Forwarded-For": address}, timeout=30)

        for attempt in range(login_limit.MAX_USER_FAILURES):
            address = f"198.51.100.{attempt // (login_limit.MAX_FAILURES - 1)}"  # 4 per address
            assert login("cw_a2", "wrong-pw", address).status_code == 401
        # A new address, and the right password: the username is locked, whoever asks.
        locked = login("cw_a2", PASSWORD, "203.0.113.50")
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        # Another username from the same addresses is not.
        assert login("cw_a1", PASSWORD, "198.51.100.0").status_code == 200
    finally:
        server.stop()


async def _async_conn(url: str) -> psycopg.AsyncConnection[psycopg.rows.DictRow]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)


def test_two_limiters_on_one_database_count_together_and_the_window_expires(db_url: str) -> None:
    async def scenario() -> None:
        one, two = (LoginLimiter(max_failures=2, max_user_failures=3, window_s=1.0) for _ in range(2))
        async with await _async_conn(db_url) as conn_one, await _async_conn(db_url) as conn_two:
            await one.failed(conn_one, "u", "1.2.3.4")
            assert await two.check(conn_two, "u", "1.2.3.4") == 1
            await two.failed(conn_two, "u", "1.2.3.4")
            for limiter, conn in ((one, conn_one), (two, conn_two)):
                with pytest.raises(TooManyAttempts) as locked:
                    await limiter.check(conn, "u", "1.2.3.4")
                assert locked.value.headers == {"Retry-After": "1"}
            assert await one.check(conn_one, "u", "5.6.7.8") == 0  # per address
            await two.failed(conn_two, "u", "5.6.7.8")  # the username's third failure
            with pytest.raises(TooManyAttempts):
                await one.check(conn_one, "u", "9.9.9.9")  # the username is locked everywhere
            assert await one.check(conn_one, "v", "1.2.3.4") == 0  # another username is not
            time.sleep(1.05)
            assert await one.check(conn_one, "u", "1.2.3.4") == 0
            # Expired failures are purged by the next one recorded.
            await one.failed(conn_one, "w", "1.2.3.4")
            rows = await (await conn_one.execute("SELECT username FROM login_failures")).fetchall()
            assert [row["username"] for row in rows] == ["w"]

    asyncio.run(scenario())
