"""The gRPC server of ``patternlimit serve --grpc-port``: Envoy's ext_authz and rate limit services
(:mod:`patternlimit.sidecar.grpc_authz`) on a ``grpc.aio`` server.

Under ``serve`` it runs on the HTTP app's own event loop (:func:`with_grpc` starts it with the app's lifespan
and stops it before the limiter closes), so both protocols share one limiter, one storage connection and one
view. With ``--workers N`` every worker binds the gRPC port with ``SO_REUSEPORT`` and the kernel spreads
Envoy's connections over them, as it does for the HTTP port; a single worker binds it exclusively, so a port
already taken is an error rather than a silent share. :func:`running` serves from a thread of its own instead,
for code that is not an ASGI app (tests, benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from patternlimit.errors import ConfigurationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from patternlimit.engine import Limiter
    from patternlimit.sidecar.facts import GatewayFacts

MAX_MESSAGE = 8 << 20
"""Largest gRPC message accepted: Envoy's ``with_request_body.max_request_bytes`` plus its headers must fit."""


@dataclass(frozen=True, slots=True)
class GrpcConfig:
    host: str = "127.0.0.1"
    port: int = 0
    """0: any free port (:func:`start` returns the one bound)."""
    token: str | None = None
    token_required: bool = False
    """Whether every call needs ``authorization: Bearer <token>`` metadata (bound beyond loopback)."""
    reuse_port: bool = False
    """``SO_REUSEPORT``: several worker processes share the port."""
    grace: float = 2.0
    """Seconds calls in flight get to finish on shutdown."""
    max_concurrent: int = 1024
    """Calls in flight at once; beyond it a call gets ``RESOURCE_EXHAUSTED`` at once (Envoy's ``failure_mode_*``
    decides) instead of queueing without bound behind a stalled storage."""


def _modules() -> tuple[Any, Any]:
    try:
        import grpc

        from patternlimit.sidecar import grpc_authz
    except ImportError as exc:
        raise ConfigurationError(
            f'serving Envoy over gRPC needs grpcio and xds-protos: pip install "patternlimit[sidecar]" ({exc})'
        ) from exc
    return grpc, grpc_authz


async def start(limiter: Limiter, facts: GatewayFacts, config: GrpcConfig) -> tuple[Any, int]:
    """A started ``grpc.aio`` server with both services on the running loop, and its port."""
    grpc, authz = _modules()
    server = grpc.aio.server(
        maximum_concurrent_rpcs=config.max_concurrent,
        options=[
            ("grpc.so_reuseport", 1 if config.reuse_port else 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
        ],
    )
    authz.add_services(server, limiter, facts, authz.Guard(config.token, config.token_required))
    host = f"[{config.host}]" if ":" in config.host else config.host
    try:
        port = server.add_insecure_port(f"{host}:{config.port}")
    except RuntimeError as exc:
        raise ConfigurationError(f"cannot serve gRPC on {config.host}:{config.port}: {exc}") from exc
    await server.start()
    return server, int(port)


def with_grpc(app: ASGIApp, limiter: Limiter, facts: GatewayFacts, config: GrpcConfig) -> ASGIApp:
    """``app`` with the gRPC server started on its lifespan's startup and stopped on its shutdown (first, so
    that the app's own shutdown closes a limiter no call is using)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        server: Any = None

        async def receive_and_serve() -> Message:
            nonlocal server
            message = await receive()
            if message["type"] == "lifespan.startup":
                server, _ = await start(limiter, facts, config)  # an error fails the startup: uvicorn exits
            elif message["type"] == "lifespan.shutdown" and server is not None:
                await server.stop(config.grace)
            return message

        await app(scope, receive_and_serve, send)

    return wrapped


@contextlib.contextmanager
def running(limiter: Limiter, facts: GatewayFacts, config: GrpcConfig | None = None) -> Iterator[int]:
    """Serve from a daemon thread with an event loop of its own until the block ends; yields the port."""
    settings = config or GrpcConfig()
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    ready = threading.Event()
    outcome: list[BaseException | int] = []

    async def main() -> None:
        try:
            server, port = await start(limiter, facts, settings)
        except BaseException as exc:
            outcome.append(exc)
            ready.set()
            return
        outcome.append(port)
        ready.set()
        await stopping.wait()
        await server.stop(settings.grace)

    def thread() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
        loop.close()

    worker = threading.Thread(target=thread, name="patternlimit-grpc", daemon=True)
    worker.start()
    ready.wait()
    if isinstance(outcome[0], BaseException):
        worker.join()
        raise outcome[0]
    try:
        yield outcome[0]
    finally:
        loop.call_soon_threadsafe(stopping.set)
        worker.join(timeout=settings.grace + 5)
