"""The API's domain errors and the one place where they become HTTP responses.

Services raise these; ``install`` maps them (and database and validation errors caused by
bad input) to ``{"detail": ...}`` with the right status, so no bad input ever answers 500; a
database that is down, read-only or full answers 503 with ``Retry-After``. Under ``/app`` the
same status is answered as a page (``api.web.errors``: HTML, and 401 a redirect to the login).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dolbom.errors import DolbomError
from reports.errors import BadPeriod, ReportError, UnknownEnrollee, UnknownRegion, UnknownStoredReport
from store.db import DISK_FULL, READ_ONLY, UNAVAILABLE, refusal

log = logging.getLogger(__name__)


class ApiError(DolbomError):
    """An error a client caused or must handle; ``status`` is its HTTP status."""

    status = 400
    headers: dict[str, str] | None = None


class Unauthorized(ApiError):
    status = 401
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - constant


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class Invalid(ApiError):
    status = 422


class TooManyAttempts(ApiError):
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


def error_response(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, str(exc), exc.headers)


# The reports component's errors (reports/errors.py): its message is the detail.
_REPORT_STATUS: tuple[tuple[type[ReportError], int], ...] = (
    (BadPeriod, 422), (UnknownRegion, 404), (UnknownEnrollee, 404), (UnknownStoredReport, 404),
)


async def _report_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in _REPORT_STATUS if isinstance(exc, kind)), 400)
    return error_response(status, str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key in ("loc", "msg", "type")}
        for error in exc.errors()
    ]
    return error_response(422, jsonable_encoder(errors))


# What a client is told when PostgreSQL (or psycopg) refuses a value. Validation runs before
# any query (api/fields.py, the cursor schemas), so this is a last line. PostgreSQL's own
# message quotes the value (perhaps a person's data): neither the client nor the log gets it;
# the log names the error class and SQLSTATE.
_DATA_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (psycopg.errors.NumericValueOutOfRange, "a number in the request is out of range"),
    (psycopg.errors.DatetimeFieldOverflow, "a date or time in the request is out of range"),
    (psycopg.errors.StringDataRightTruncation, "a text in the request is too long"),
)


def data_error_detail(exc: Exception) -> str:
    """The 422 detail for a value the database refused, in our words."""
    for kind, detail in _DATA_ERRORS:
        if isinstance(exc, kind):
            return detail
    return "a value in the request is not valid"


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # Values PostgreSQL refuses (NUL bytes, out-of-range numbers) come from the request.
    log.warning("value refused by the database (%s, SQLSTATE %s) on %s %s", type(exc).__name__,
                getattr(exc, "sqlstate", None), request.method, request.url.path)
    return error_response(422, data_error_detail(exc))


# What a client is told when the database refuses for a while, and when to try again.
_REFUSED: dict[str, tuple[str, int]] = {
    READ_ONLY: ("the database is read-only for now (maintenance or failover); nothing was "
                "changed, try again shortly", 30),
    DISK_FULL: ("the database is out of disk space; nothing was changed, try again later", 60),
}


async def _database_refused(request: Request, exc: Exception) -> JSONResponse:
    """Down, read-only or full: 503 with Retry-After, never a 500 and a traceback."""
    why = refusal(exc) or UNAVAILABLE
    log.warning("%s (%s) on %s %s", why, type(exc).__name__, request.method, request.url.path)
    detail, retry_after_s = _REFUSED.get(why, ("database unavailable, try again shortly", 5))
    return error_response(503, detail, {"Retry-After": str(retry_after_s)})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error")


async def _http_error(request: Request, exc: Exception) -> Response:
    """An unknown path or method: FastAPI's own JSON answer (registered here so that a page's
    is a page)."""
    assert isinstance(exc, StarletteHTTPException)
    return await http_exception_handler(request, exc)


class PageErrors(Protocol):
    """How the web app answers an error on one of its pages (``api.web.errors.PAGES``): the
    status is decided here, the page there."""

    def covers(self, request: Request) -> bool: ...

    async def answer(self, request: Request, exc: Exception, api_answer: Response) -> Response: ...


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _or_page(handler: Handler, pages: PageErrors) -> Handler:
    async def answer(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        return await pages.answer(request, exc, response) if pages.covers(request) else response

    return answer


def install(app: FastAPI, pages: PageErrors | None = None) -> None:
    """Register every error mapping on ``app``; with ``pages``, an error of a web page is
    answered as a page (unknown paths included: Starlette's 404 and 405)."""
    handlers: tuple[tuple[type[Exception], Handler], ...] = (
        (LoginRequired, _login_required),
        (ApiError, _api_error),
        (ReportError, _report_error),
        (RequestValidationError, _validation_error),
        (psycopg.errors.DataError, _data_error),
        (psycopg.OperationalError, _database_refused),
        (psycopg.errors.ReadOnlySqlTransaction, _database_refused),
        (StarletteHTTPException, _http_error),
        (Exception, _unexpected),
    )
    for kind, handler in handlers:
        app.add_exception_handler(kind, handler if pages is None else _or_page(handler, pages))


class LoginRequired(ApiError):
    """A web page was asked for without a valid session: redirect to the login page."""

    status = 303


async def _login_required(request: Request, exc: Exception) -> RedirectResponse:
    return RedirectResponse("/app/login", status_code=303)
