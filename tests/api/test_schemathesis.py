"""Property-based checks of the API against its own OpenAPI schema (schemathesis).

Runs against a live uvicorn on a free port with a test database and a small world of
people, as admin (the role that reaches every operation). Checks: no 5xx, every status
documented, bodies, headers and content types as the schema says. The SSE stream is
excluded (it never ends; tests/api/test_stream.py covers it).

The operations are driven by hand with hypothesis (schemathesis' pytest fixture loader
does not support this pytest version).
"""

from __future__ import annotations

import dataclasses

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.security.tokens import issue_token
from tests.api.conftest import SECRET, LiveServer, World

MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.mark.slow
def test_api_conforms_to_its_schema(live_server: LiveServer, world: World, db: psycopg.Connection) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")

    def admin_headers() -> dict[str, str]:
        # POST /v1/users/{id}/revoke-tokens on the admin ends their token mid-run: sign each
        # case with their current token version, so every later operation is still reached.
        row = db.execute("SELECT token_version FROM users WHERE id = %s", (world.ids["admin"],)).fetchone()
        assert row is not None
        admin = dataclasses.replace(world.principal("admin"), token_version=row[0])
        return {"Authorization": f"Bearer {issue_token(admin, SECRET, 30)}"}

    tested = []
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/v1/alerts/stream":
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=admin_headers(), checks=CHECKS, timeout=30)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 14, tested
    assert not failures, "\n\n".join(failures)
    # The run really exercised the server: its own request counter says how much.
    metrics = httpx.get(f"{live_server.url}/metrics").text
    served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith("dolbom_api_requests_total{"))
    assert served >= 10 * len(tested), served
