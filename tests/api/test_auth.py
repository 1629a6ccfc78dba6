"""Login, tokens and the failed-login rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from api.auth import service as auth_service
from tests.api.conftest import PASSWORD, SECRET, World


def test_login_and_use_token(client: TestClient, world: World) -> None:
    response = client.post("/v1/auth/token", data={"username": "cw_a1", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], issuer="dolbom")
    assert claims["role"] == "care_worker" and claims["exp"] - claims["iat"] == 30 * 60
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
    for token in (expired, forged, unsigned, "abc"):
        response = client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_failed_logins_are_rate_limited(client: TestClient, world: World) -> None:
    for _ in range(auth_service.MAX_FAILURES):
        failed = client.post("/v1/auth/token", data={"username": "cw_a2", "password": "wrong-pw"})
        assert failed.status_code == 401
    locked = client.post("/v1/auth/token", data={"username": "cw_a2", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # Other users from the same address are not locked out by it.
    assert client.post("/v1/auth/token", data={"username": "cw_a1", "password": PASSWORD}).status_code == 200
    # Unknown users fail the same way as wrong passwords.
    unknown = client.post("/v1/auth/token", data={"username": "nobody", "password": "whatever-pw"})
    assert unknown.status_code == 401 and unknown.json() == {"detail": "incorrect username or password"}


def test_limiter_window_expires() -> None:
    limiter = auth_service.LoginLimiter(max_failures=2, window_s=0.05)
    limiter.failed("u", "1.2.3.4")
    limiter.failed("u", "1.2.3.4")
    try:
        limiter.check("u", "1.2.3.4")
        raise AssertionError("expected a lockout")
    except auth_service.TooManyAttempts:
        pass
    limiter.check("u", "5.6.7.8")  # per address
    import time

    time.sleep(0.06)
    limiter.check("u", "1.2.3.4")
