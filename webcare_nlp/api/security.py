"""Limits and access: request body limit (413), per-request timeout (503) and the optional bearer token (401).

All three are plain ASGI middleware so that they hold before any body is parsed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _send_json(send: Send, status: int, detail: str, *, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"error": detail, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > self.max_bytes:
                await _send_json(send, 413, self._message())
                return
        # Read the body here (it is small by definition) so the limit holds for chunked uploads too:
        # an exception raised inside the app's own body parsing would turn into a 400.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await _send_json(send, 413, self._message())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self) -> str:
        return f"The request body is larger than the limit of {self.max_bytes:,} bytes; send fewer or shorter messages."


class TimeoutMiddleware:
    """Answer 503 when a request takes longer than `seconds` (the engine's thread finishes its batch anyway)."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):  # no extra task per request, unlike wait_for
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not started:
                await _send_json(send, 503, f"The request took longer than {self.seconds:g} s; try again shortly.")


TOKEN_REQUIRED = "A valid API token is required: send the header 'Authorization: Bearer <token>'."


class TokenMiddleware:
    """With a token set, answer 401 on the `protected` paths unless `Authorization: Bearer <token>` is sent.

    A middleware rather than a route dependency, so that it acts before the body is parsed: a client
    without the token learns nothing about its body, not even that it is malformed.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, protected: frozenset[str]) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, value = given.partition(b" ")
        # Compared in constant time, so the answer's timing does not tell how much of a guess was right.
        if scheme.lower() == b"bearer" and secrets.compare_digest(value.strip(), self.token):
            await self.app(scope, receive, send)
            return
        await _send_json(send, 401, TOKEN_REQUIRED, extra=((b"www-authenticate", b"Bearer"),))


def mask_for_log(value: Any, *, limit: int = 160) -> str:
    """A short, single-line form of already-masked text for the logs."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
