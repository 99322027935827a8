"""A FastAPI app behind patternlimit. Run: ``uvicorn examples.fastapi_app:app --no-proxy-headers``."""

from __future__ import annotations

import hashlib
import time

from fastapi import FastAPI, Request

from patternlimit import Limiter
from patternlimit.integrations import AccountContext, RequestInfo
from patternlimit.integrations.asgi import PatternLimitMiddleware

limiter = Limiter()  # the distillation-defense preset; the secret comes from PATTERNLIMIT_SECRET

# Your user store: when was the account behind an API key created? A stand-in for the demo: keys named
# "young-..." belong to accounts created just now, "ci-harness" to one created 400 days ago.
CREATED = {"ci-harness": time.time() - 400 * 86400}


async def account_context(account: str, info: RequestInfo) -> AccountContext | None:
    api_key = info.header("x-api-key") or ""
    created = CREATED.get(api_key, time.time() if api_key.startswith("young-") else None)
    return None if created is None else AccountContext(created_at=created)


app = FastAPI()
app.add_middleware(
    PatternLimitMiddleware,
    limiter=limiter,
    json_fields=["messages[*].content"],  # fingerprint the prompts, not the JSON around them
    account_context=account_context,  # cached per account (LRU with a TTL)
)


@app.post("/v1/messages")
async def messages(request: Request) -> dict[str, object]:
    # Consume the body as a stream: the middleware replays what it read, then the rest arrives as sent.
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}
