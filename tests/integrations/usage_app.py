"""Stand-ins for an LLM API that report token usage as OpenAI and Anthropic do, as JSON or as server-sent events,
behind patternlimit's middlewares with ``usage=("tokens",)``: a FastAPI app (:data:`asgi_app`, under uvicorn) and
a Flask app (:data:`wsgi_app`, under gunicorn).

A request's JSON body names the ``style`` (``"openai"`` or ``"anthropic"``), ``stream`` and the ``tokens`` the
response reports in all (:mod:`patternlimit._testing.llm_responses` builds it). Streamed bodies go out in small
pieces that cut events, lines and the usage JSON itself apart, so the middleware must scan across chunk
boundaries.

No ``from __future__ import annotations`` here: FastAPI reads the handler's annotations, and ``Request`` is imported
inside the function that builds the app.
"""

from patternlimit import Limiter
from patternlimit._testing.llm_responses import body_for, pieces
from patternlimit.policy.models import LimitRule, Policy

TOKENS_PER_HOUR = 10_000
POLICY = Policy(
    rules=[
        LimitRule(name="requests", limit="600/minute", weighted=False),
        LimitRule(name="tokens", limit=f"{TOKENS_PER_HOUR}/hour", strategy="fixed-window", weighted=False),
    ]
)


def _asgi_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI, Request
    from fastapi.responses import Response, StreamingResponse

    from patternlimit.integrations.asgi import PatternLimitMiddleware

    app = FastAPI()
    limiter = Limiter(POLICY)
    app.add_middleware(PatternLimitMiddleware, limiter=limiter, usage=("tokens",), headers_on_allowed=True)

    @app.post("/v1/llm")
    async def llm(request: Request) -> Response:
        asked = await request.json()
        data = body_for(asked["style"], asked["stream"], asked["tokens"])
        if not asked["stream"]:
            return Response(data, media_type="application/json")

        async def events():  # type: ignore[no-untyped-def]
            for piece in pieces(data):
                yield piece

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def _wsgi_app():  # type: ignore[no-untyped-def]
    from flask import Flask, Response, request

    from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware

    app = Flask(__name__)

    @app.post("/v1/llm")
    def llm() -> Response:
        asked = request.get_json()
        data = body_for(asked["style"], asked["stream"], asked["tokens"])
        if not asked["stream"]:
            return Response(data, mimetype="application/json")
        return Response(pieces(data), mimetype="text/event-stream")

    limiter = Limiter(POLICY)
    app.wsgi_app = PatternLimitWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, limiter=limiter, usage=("tokens",), headers_on_allowed=True
    )
    return app


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # Each app is built only when its server imports it: the unit tests import the payloads alone.
    if name == "asgi_app":
        return _asgi_app()
    if name == "wsgi_app":
        return _wsgi_app()
    raise AttributeError(name)
