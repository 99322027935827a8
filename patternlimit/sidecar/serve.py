"""``patternlimit serve``: the sidecar under uvicorn, configured from the command line and the environment.

The secret comes from ``PATTERNLIMIT_SECRET`` or ``--secret-file``, the admin token from
``PATTERNLIMIT_ADMIN_TOKEN`` or ``--token-file``. Bound beyond loopback, both are required and every endpoint but
``/healthz`` needs the token. ``--workers N`` runs N processes; give them ``--storage redis://...`` so that
they share one view (each process on ``memory://`` would see only its share of a fan-out).

``SIGHUP`` reloads the policy (the ``--policy`` file read again, or the preset) in a single process: a policy that
does not load is refused with the reason in the log and the current one keeps serving. With ``--workers N``,
uvicorn's supervisor answers ``SIGHUP`` by restarting the workers; each loads the policy file again, and one that
cannot falls back, with the reason in the log, to the policy ``serve`` validated when it started.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from patternlimit.errors import ConfigurationError

logger = logging.getLogger("patternlimit.sidecar")

_ENVIRONMENT = "PATTERNLIMIT_SIDECAR"
"""Where ``serve`` hands its settings to the worker processes (uvicorn starts them from an import string)."""


def _read(path: str | None, variable: str) -> str | None:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
    return os.environ.get(variable) or None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings(
    *,
    host: str,
    policy: str | None,
    storage: str,
    secret_file: str | None,
    token_file: str | None,
    max_body: int,
    grpc_port: int | None = None,
    trusted_proxies: Sequence[str] = (),
    json_fields: Sequence[str] = (),
) -> dict[str, Any]:
    """The workers' settings; raises :class:`ConfigurationError` for what cannot be served safely."""
    secret = _read(secret_file, "PATTERNLIMIT_SECRET")
    token = _read(token_file, "PATTERNLIMIT_ADMIN_TOKEN")
    exposed = not _loopback(host)
    if exposed and not secret:
        raise ConfigurationError(f"serving on {host} needs a secret: set PATTERNLIMIT_SECRET or --secret-file")
    if exposed and not token:
        raise ConfigurationError(f"serving on {host} needs an admin token: PATTERNLIMIT_ADMIN_TOKEN or --token-file")
    if token is not None and len(token) < 16:
        raise ConfigurationError("the admin token must be at least 16 characters")
    if not 1024 <= max_body <= 64 << 20:
        raise ConfigurationError(f"--max-body must be between 1 KiB and 64 MiB, got {max_body}")
    if grpc_port is not None and not 0 < grpc_port < 65536:
        raise ConfigurationError(f"--grpc-port must be a port number, got {grpc_port}")
    from patternlimit.sidecar.facts import GatewayFacts

    GatewayFacts(trusted_proxies=tuple(trusted_proxies), json_fields=tuple(json_fields))  # refuse bad ones here
    return {
        "grpc_port": grpc_port,
        "trusted_proxies": list(trusted_proxies),
        "json_fields": list(json_fields),
        "policy": policy,
        "storage": storage,
        "secret": secret,
        "token": token,
        "token_for_checks": exposed,
        "max_body": max_body,
    }


def from_environment() -> Any:
    """The app for one worker, from the settings ``serve`` left in the environment (uvicorn's factory)."""
    from patternlimit.engine import Limiter
    from patternlimit.sidecar.app import SidecarConfig, build_app

    given = json.loads(os.environ[_ENVIRONMENT])
    _compile()
    secret = given["secret"]
    try:
        limiter = Limiter(given["policy"], storage=given["storage"], secret=secret)
    except ConfigurationError as exc:
        if "started_with" not in given:
            raise
        # A worker restarted (SIGHUP to the supervisor) after the file went bad: the validated policy serves on.
        logger.error("policy %s refused, serving the one validated at start: %s", given["policy"], exc)
        limiter = Limiter(given["started_with"], storage=given["storage"], secret=secret)
    _reload_on_hangup(limiter, given["policy"])
    config = SidecarConfig(
        token=given["token"],
        token_for_checks=given["token_for_checks"],
        max_body=given["max_body"],
        digest_key=(secret or limiter.secret_id).encode(),
    )
    app = build_app(limiter, config)
    if given.get("grpc_port"):
        from patternlimit.sidecar.grpc_server import GrpcConfig, with_grpc

        facts = _gateway_facts(given, config.digest_key)
        grpc = GrpcConfig(
            host=given["host"],
            port=given["grpc_port"],
            token=given["token"],
            token_required=given["token_for_checks"],
            reuse_port=given["workers"] > 1,
        )
        return with_grpc(app, limiter, facts, grpc)
    return app


def _gateway_facts(given: dict[str, Any], digest_key: bytes) -> Any:
    from patternlimit.sidecar.facts import GatewayFacts

    trusted, fields = tuple(given["trusted_proxies"]), tuple(given["json_fields"])
    return GatewayFacts(digest_key=digest_key, json_fields=fields, trusted_proxies=trusted, max_body=given["max_body"])


def serve(*, host: str, port: int, workers: int, **options: Any) -> int:
    """Run the sidecar until interrupted."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigurationError('patternlimit serve needs uvicorn: pip install "patternlimit[sidecar]"') from exc
    given = settings(host=host, **options)
    from patternlimit.engine import Limiter

    probe = Limiter(given["policy"], storage=given["storage"], secret=given["secret"])  # fail here, not per worker
    probe.close()
    if workers > 1:
        given["started_with"] = probe.policy.model_dump(mode="json")
    os.environ[_ENVIRONMENT] = json.dumps({**given, "host": host, "workers": workers})
    uvicorn.run(
        "patternlimit.sidecar.serve:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        loop="asyncio" if given["grpc_port"] else "auto",  # grpc.aio shares the loop: plain asyncio, not uvloop
    )
    return 0


def _reload_on_hangup(limiter: Any, policy: str | None) -> None:
    """On SIGHUP, reload ``policy`` into ``limiter`` on the serving loop (between requests, never inside a check);
    a policy that does not load is logged and refused. Only where uvicorn runs the app on this thread's loop: a
    worker of ``--workers N`` is restarted by the supervisor instead."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return
    try:
        loop = asyncio.get_running_loop()  # uvicorn calls the app factory from its serving coroutine
    except RuntimeError:
        return

    def reload() -> None:
        try:
            kept = limiter.reload(policy)
        except ConfigurationError as exc:
            logger.error("SIGHUP: policy %s refused, %r keeps serving: %s", policy, limiter.policy.name, exc)
            return
        counts = "counts kept" if kept else "sketches started empty (new capacity, window or buckets)"
        logger.warning("SIGHUP: policy %r loaded from %s; %s", limiter.policy.name, policy or "the preset", counts)

    loop.add_signal_handler(signal.SIGHUP, reload)


def _compile() -> None:
    """Compile (or load from numba's cache) every kernel a check runs, on a throwaway limiter, before the worker
    answers anything: its first real check must not wait tens of seconds for the compiler, nor count a probe."""
    from patternlimit.engine import Limiter
    from patternlimit.request import Request

    probe = Limiter(secret=b"compiles the kernels, serves nothing", clock="replay")
    request = Request(account="probe", ip="192.0.2.1", text="Write a function that parses a file.\n" * 8)
    probe.check(request, now=1_000_000_000.0)
    probe.check_many([request, request], now=1_000_000_001.0)
    probe.close()
