"""The API's domain errors and the one place where they become HTTP responses.

Services raise these; ``install`` maps them (and database and validation errors caused by
bad input) to ``{"detail": ...}`` with the right status, so no bad input ever answers 500.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from dolbom.errors import DolbomError

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


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key in ("loc", "msg", "type")}
        for error in exc.errors()
    ]
    return error_response(422, jsonable_encoder(errors))


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # Values PostgreSQL refuses (NUL bytes, out-of-range numbers) come from the request.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return error_response(422, f"invalid value: {first}")


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    return error_response(503, "database unavailable, try again shortly", {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error")


def install(app: FastAPI) -> None:
    """Register every error mapping on ``app``."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(psycopg.errors.DataError, _data_error)
    app.add_exception_handler(psycopg.OperationalError, _database_down)
    app.add_exception_handler(Exception, _unexpected)


class LoginRequired(ApiError):
    """A web page was asked for without a valid session: redirect to the login page."""

    status = 303


async def _login_required(request: Request, exc: Exception) -> RedirectResponse:
    return RedirectResponse("/app/login", status_code=303)
