"""`create_app(settings)`: the FastAPI app with its routers, limits, error handlers and the agents' page."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webcare_nlp import __version__
from webcare_nlp.api import page, routes_analysis, routes_feedback, routes_meta
from webcare_nlp.api.security import BodyLimitMiddleware, TimeoutMiddleware, TokenMiddleware
from webcare_nlp.api.services import Services, load_engine
from webcare_nlp.api.settings import Settings, get_settings
from webcare_nlp.errors import ModelError, WebcareError

log = logging.getLogger("webcare_nlp.api")

DESCRIPTION = (
    "Labels customer messages (intent, sentiment, reply expected and why) and ranks reply templates and "
    "articles, offline. Bodies follow the contract of formats.md. The agents' page is at `/`."
)


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    """Build the app; `engine` skips loading one (tests pass a loaded engine).

    Example:
        >>> app = create_app(Settings(), engine=my_engine)  # doctest: +SKIP
        >>> uvicorn.run(app)  # doctest: +SKIP
    """
    settings = settings or get_settings()
    services = Services(settings=settings, engine=engine if engine is not None else load_engine(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.batcher.run(services.warm_up)
        services.refresher.watch(settings.feedback_refresh_seconds)
        yield
        services.refresher.close()
        services.batcher.close()

    # The docs at /docs and /redoc with their scripts served by the app itself: they work offline.
    app = FastAPIOffline(title="webcare-nlp", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.services = services
    # Dependencies are async so that none of them costs a hop to the thread pool per request.

    async def given_settings() -> Settings:
        return settings

    app.dependency_overrides[get_settings] = given_settings
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(WebcareError, _webcare_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)

    app.include_router(routes_meta.public)
    protected = (routes_analysis.router, routes_feedback.router, routes_meta.router)
    for router in protected:
        app.include_router(router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")

    # Added last = outermost: the log sees every answer, the token is checked before the body is read,
    # the body limit acts before anything parses.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(TimeoutMiddleware, seconds=settings.timeout_seconds)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    paths = frozenset(str(getattr(route, "path", "")) for router in protected for route in router.routes)
    app.add_middleware(TokenMiddleware, token=settings.api_token, protected=paths)
    app.add_middleware(RequestLogMiddleware)
    return app


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(error: Any) -> str:
    """pydantic's words, where they name neither the cause nor the remedy replaced by ones that do."""
    kind, loc = error.get("type"), tuple(error.get("loc", ()))
    if kind == "json_invalid":  # its loc is the character where parsing stopped, not a field
        reason = (error.get("ctx") or {}).get("error", "")
        where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        return f"not valid JSON{where}{': ' + reason if reason else ''}"
    if kind in {"model_attributes_type", "dict_type", "model_type"} and loc == ("body",):
        return 'send a JSON object (Content-Type: application/json), such as {"text": "..."}'
    return str(error.get("msg", "")).removeprefix("Value error, ")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field; the offending input is never echoed (it may be a whole message)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "field": "body" if e.get("type") == "json_invalid" else _field(e.get("loc", ())),
            "loc": list(e.get("loc", ())),
            "msg": _message(e),
            "type": e.get("type"),
        }
        for e in errors
    ]
    summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
    return JSONResponse({"error": summary, "detail": detail}, status_code=422)


# FastAPI's words for a body it could not decode (not UTF-8, say), which name neither cause nor remedy.
_UNPARSED_BODY = "There was an error parsing the body"


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    """Every error answer carries `error`, as the 422s do; `detail` stays what it was."""
    if not isinstance(exc, StarletteHTTPException):
        return await _internal_error(_, exc)
    detail = exc.detail
    if exc.status_code == 400 and detail == _UNPARSED_BODY:
        detail = (
            "The request body could not be read as JSON: send JSON encoded as UTF-8 (Content-Type: "
            "application/json), without numbers of thousands of digits or nesting thousands deep."
        )
    return JSONResponse({"error": str(detail), "detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _webcare_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ModelError):
        return JSONResponse({"error": str(exc), "detail": str(exc)}, status_code=503)
    return JSONResponse({"error": str(exc), "detail": [{"field": "body", "msg": str(exc)}]}, status_code=422)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback names code, not data: no message text reaches the log.
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    message = f"Internal error ({type(exc).__name__}); the server log has the details."
    return JSONResponse({"error": message, "detail": message}, status_code=500)


class RequestLogMiddleware:
    """One log line per request: method, path, status and time; never a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            ms = (time.perf_counter() - start) * 1000
            log.info("%s %s %d %.1fms", scope["method"], _loggable_path(scope), status, ms)


def _loggable_path(scope: Scope) -> str:
    """The path as the client sent it (percent-encoded), control characters escaped and cut short: a decoded
    "%0A" would start a log line of the client's making."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "backslashreplace")
    path = raw.decode("ascii", "backslashreplace")
    path = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)
    return path if len(path) <= 300 else path[:299] + "…"
