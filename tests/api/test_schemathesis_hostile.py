"""Schemathesis and hypothesis against hostile input: no 5xx (issue 12).

Two runs, on a live uvicorn with a test database, as admin (tests/api/test_schemathesis.py
does the positive run): schemathesis' negative mode (data that breaks the schema, e.g.
``region_id: true``, ``"1"`` or ``1.0``, must answer 4xx, never 5xx), and every ``cursor``
parameter fed base64 of arbitrary JSON, including objects with the keys of a real cursor and
values of any type (the example that found the 500s: ``{"id": true}``), and instants from
year 1 to 9999 at any offset.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, status_code_conformance

from api.pagination import CURSOR_INVALID
from api.security.tokens import issue_token
from tests.api.conftest import SECRET, LiveServer, World, open_alert

NEGATIVE_EXAMPLES = 20
CURSOR_EXAMPLES = 40
NEGATIVE_CHECKS = [not_a_server_error, negative_data_rejection]
SKIPPED = {"/v1/alerts/stream"}  # never ends; tests/api/test_stream.py covers it

# Any JSON, and objects shaped like our cursors with values of any type.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_INSTANTS = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)
_KEYS = st.sampled_from(["id", "ts", "device", "metric", "type", "after"])
_POSITIONS = _JSON | st.dictionaries(_KEYS, _JSON | _INSTANTS | st.integers(0, 2**31), min_size=1,
                                     max_size=4)
CURSORS = _POSITIONS.map(
    lambda position: base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("="))


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path not in SKIPPED]


def _run_each(operations: list[Any], make_check: Callable[[Any], Callable[[], None]]) -> list[str]:
    """Run one hypothesis test per operation; every operation's failure, not just the first."""
    failures = []
    for operation in operations:
        try:
            make_check(operation)()
        except Exception as error:  # collect every operation's failure, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    return failures


def _admin_headers(db: psycopg.Connection, world: World) -> Callable[[], dict[str, str]]:
    """Headers signed with the admin's current token version (a generated revoke-tokens or
    password change on the admin would otherwise end the run's token)."""
    def headers() -> dict[str, str]:
        row = db.execute("SELECT token_version FROM users WHERE id = %s", (world.ids["admin"],)).fetchone()
        assert row is not None
        admin = dataclasses.replace(world.principal("admin"), token_version=row[0])
        return {"Authorization": f"Bearer {issue_token(admin, SECRET, 30)}"}

    return headers


@pytest.mark.slow
def test_data_outside_the_schema_answers_4xx(
    live_server: LiveServer, world: World, db: psycopg.Connection
) -> None:
    """Negative mode: wrong types, out-of-range numbers, missing or extra fields, bad formats
    (``region_id: true``, ``"1"``, ``1.0``...) are refused with a 4xx, never a 5xx."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    headers = _admin_headers(db, world)
    operations = _operations(schema)

    def make_check(operation: Any) -> Callable[[], None]:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=NEGATIVE_EXAMPLES, deadline=None,
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers(), checks=NEGATIVE_CHECKS, timeout=30)

        def run() -> None:
            try:
                check()
            except Unsatisfiable:  # no parameter and no body: nothing can be made invalid
                return
            negated.append(operation.path)

        return run

    negated: list[str] = []
    failures = _run_each(operations, make_check)
    assert len(negated) >= 14, negated
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_fuzzed_cursors_answer_200_or_422(
    live_server: LiveServer, world: World, db: psycopg.Connection
) -> None:
    """Every list's ``cursor`` fed base64 of arbitrary JSON: a page, or 422 ``cursor is not
    valid`` (or a field error, when another generated parameter is wrong), never a 500."""
    open_alert(db, world.enrollees["a1"])
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    headers = _admin_headers(db, world)
    paged = [op for op in _operations(schema)
             if any(p.name == "cursor" for p in op.query)]
    # The person whose readings and events are listed exists, so the cursor is what is tested.
    pinned = {"enrollee_id": world.enrollees["a1"]}

    def make_check(operation: Any) -> Callable[[], None]:
        path_parameters = {k: v for k, v in pinned.items() if "{" + k + "}" in operation.path}

        @given(case=operation.as_strategy(path_parameters=path_parameters), cursor=CURSORS)
        @settings(max_examples=CURSOR_EXAMPLES, deadline=None,
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case, cursor: str) -> None:
            case.query = {**(case.query or {}), "cursor": cursor}
            response = case.call_and_validate(headers=headers(), timeout=30,
                                              checks=[not_a_server_error, status_code_conformance])
            assert response.status_code in (200, 404, 422), response.text
            if "cursor" in response.text and response.status_code == 422:
                detail = response.json()["detail"]
                assert detail == CURSOR_INVALID or isinstance(detail, list), response.text

        return check

    assert {op.path for op in paged} >= {"/v1/enrollees", "/v1/alerts", "/v1/devices", "/v1/audit",
                                         "/v1/enrollees/{enrollee_id}/readings",
                                         "/v1/enrollees/{enrollee_id}/events"}
    failures = _run_each(paged, make_check)
    assert not failures, "\n\n".join(failures)
