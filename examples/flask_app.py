"""A Flask app behind patternlimit's WSGI middleware. Run: ``gunicorn examples.flask_app:app``."""

from __future__ import annotations

import hashlib
import time

from flask import Flask, request

from patternlimit import Limiter
from patternlimit.integrations import AccountContext, RequestInfo
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware

limiter = Limiter()  # the distillation-defense preset; the secret comes from PATTERNLIMIT_SECRET

# Your user store: when was the account behind an API key created? A stand-in for the demo: keys named
# "young-..." belong to accounts created just now, "ci-harness" to one created 400 days ago.
CREATED = {"ci-harness": time.time() - 400 * 86400}


def account_context(account: str, info: RequestInfo) -> AccountContext | None:
    api_key = info.header("x-api-key") or ""
    created = CREATED.get(api_key, time.time() if api_key.startswith("young-") else None)
    return None if created is None else AccountContext(created_at=created)


app = Flask(__name__)


@app.post("/v1/messages")
def messages() -> dict[str, object]:
    # Consume the body as a stream: the middleware replays what it read, then the rest of wsgi.input.
    digest, size = hashlib.sha256(), 0
    while chunk := request.stream.read(65536):
        digest.update(chunk)
        size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


app.wsgi_app = PatternLimitWSGIMiddleware(  # type: ignore[method-assign]
    app.wsgi_app,
    limiter=limiter,
    json_fields=["messages[*].content"],
    account_context=account_context,
)
