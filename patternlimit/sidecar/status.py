"""The sidecar's status page: ``GET /`` (plain HTML with a small inline script, no build step, nothing fetched from
elsewhere) polls ``GET /v1/status`` (JSON) for the live top patterns and the decisions over time.

``/v1/status`` answers

* ``top``: the heaviest patterns of the window, heaviest first: kind, label, hits and hits per minute, distinct and
  young accounts (sketch estimates), young share, the rule that flagged the pattern and the action it takes now
  (an operator override on the pattern wins; unflagged: ``allow``);
* ``history``: the decisions counted so far, by action, sampled every ``interval`` seconds (and at each poll) for
  the last ``points`` samples; the page charts the decisions per second between samples. Sampling starts with the
  first request to either route: the totals are since the process started, the chart since someone first looked;
* ``policy``, ``window``, ``storage``, ``pid``: what the process runs. With ``--workers N`` each poll reaches one
  worker: the top patterns are the shared view (with Redis storage), the decision counts that worker's own.

Labels are prompt text (and account names, clients or attribute values when a rule counts them): they are shown as
this process knows them, that is labels it made from its own traffic and, with ``share_labels``, those other
processes shared; a pattern no one labelled shows its kind (from the rule that flagged it) and ``(not labelled
yet)``, as ``patternlimit top`` does. A label is clipped and stripped of control characters here, and the page
writes every value as text (never as HTML). The page itself holds no data; when the check endpoints need the token
(``token_for_checks``), so does ``/v1/status``, and the page sends the token found after ``#token=`` in its URL
(a fragment never reaches a server log).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from patternlimit.engine import Limiter, TopPattern

UNLABELLED = "(not labelled yet)"
LABEL_WIDTH = 160

_PAGE: str | None = None


def page_html() -> str:
    """The page, read once from the package (``status.html``)."""
    global _PAGE
    if _PAGE is None:
        _PAGE = (resources.files("patternlimit.sidecar") / "status.html").read_text(encoding="utf-8")
    return _PAGE


class StatusPage:
    """The two routes over one limiter. ``allowed(request)`` says whether a request may read ``/v1/status``."""

    def __init__(
        self,
        limiter: Limiter,
        allowed: Callable[[HttpRequest], bool],
        *,
        top: int = 20,
        interval: float = 5.0,
        points: int = 720,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limiter = limiter
        self.allowed = allowed
        self.top = top
        self.interval = interval
        self.clock = clock
        self.history: deque[tuple[float, dict[str, int]]] = deque(maxlen=points)
        self._sampler: asyncio.Task[None] | None = None

    def routes(self) -> list[Route]:
        return [Route("/", self.page, methods=["GET"]), Route("/v1/status", self.status, methods=["GET"])]

    async def page(self, request: HttpRequest) -> Response:
        self._start()
        return HTMLResponse(
            page_html(),
            headers={
                # Only the page's own inline script and style, and fetches to this origin.
                "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; "
                "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
                "cache-control": "no-store",
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
        )

    async def status(self, request: HttpRequest) -> Response:
        if not self.allowed(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        self._start()
        now = self.clock()
        if not self.history or now - self.history[-1][0] >= 1.0:
            self.sample(now)
        return JSONResponse(self.snapshot(now), headers={"cache-control": "no-store"})

    def sample(self, now: float) -> None:
        """Record the decisions counted so far, by action."""
        totals: dict[str, int] = {}
        for (action, _rule), count in dict(self.limiter.stats.decisions).items():
            totals[action] = totals.get(action, 0) + count
        self.history.append((now, totals))

    def snapshot(self, now: float) -> dict[str, Any]:
        limiter = self.limiter
        status = limiter.storage_status
        return {
            "policy": limiter.policy.name,
            "window": limiter.policy.window,
            "now": now,
            "pid": os.getpid(),
            "storage": None
            if status is None
            else {"mode": status.mode, "healthy": status.healthy, "failures": status.failures},
            "top": self.rows(limiter.top_patterns(self.top, now=now)),
            "history": [{"t": moment, "counts": counts} for moment, counts in self.history],
        }

    def rows(self, patterns: list[TopPattern]) -> list[dict[str, Any]]:
        rules = {rule.name: rule for rule in self.limiter.policy.rules}
        overrides = {o.key: o.action for o in self.limiter.overrides() if o.scope == "pattern"}
        per_minute = 60.0 / max(1.0, self.limiter.policy.window)
        rows = []
        for rank, pattern in enumerate(patterns, start=1):
            rule = rules.get(pattern.flagged_by or "")
            kind, label = pattern.kind, pattern.label
            if kind == "?":  # no process labelled it yet: the flagging rule's kind, as `patternlimit top` shows
                kind, label = str(getattr(rule, "pattern", "?")), UNLABELLED
            action = overrides.get(pattern.key) or (str(rule.action) if rule is not None else "allow")
            rows.append(
                {
                    "rank": rank,
                    "kind": kind,
                    "label": clip(label),
                    "key": f"{pattern.key:016x}",
                    "hits": pattern.hits,
                    "error": pattern.error,
                    "per_minute": round(pattern.hits * per_minute, 2),
                    "accounts": round(pattern.accounts, 1),
                    "young_accounts": round(pattern.young_accounts, 1),
                    "young_share": round(min(1.0, pattern.young_accounts / pattern.accounts), 3)
                    if pattern.accounts
                    else 0.0,
                    "flagged_by": pattern.flagged_by,
                    "action": action,
                }
            )
        return rows

    def _start(self) -> None:
        """Start sampling every ``interval`` seconds, on the serving loop, at the first request."""
        loop = asyncio.get_running_loop()
        if self._sampler is None or self._sampler.done() or self._sampler.get_loop() is not loop:
            self._sampler = loop.create_task(self._sample_forever())

    async def _sample_forever(self) -> None:
        while True:
            self.sample(self.clock())
            await asyncio.sleep(self.interval)


def clip(label: str) -> str:
    """A label on one line of at most :data:`LABEL_WIDTH` characters: control characters escaped, the rest cut."""
    text = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in label)
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"
