"""Web integrations: pure ASGI and WSGI middlewares and a decorator, sharing one :class:`WebConfig`.

- :mod:`patternlimit.integrations.asgi`: ``PatternLimitMiddleware`` (FastAPI, Starlette, any ASGI app)
- :mod:`patternlimit.integrations.wsgi`: ``PatternLimitWSGIMiddleware`` (Flask, Django, any WSGI app)
- :mod:`patternlimit.integrations.decorators`: ``limit(limiter, request=...)`` for handlers, ``dependency``
  (FastAPI), ``starlette_handler``

and the framework-free parts they share:

- :mod:`patternlimit.integrations.config`: :class:`WebConfig`, every option of the three
- :mod:`patternlimit.integrations.http`: :class:`RequestInfo`, headers, client address behind proxies, client string
- :mod:`patternlimit.integrations.accounts`: account id digest, :class:`AccountContext` and its cached hook
- :mod:`patternlimit.integrations.body`: request body -> the text to fingerprint (JSON fields)
- :mod:`patternlimit.integrations.extract`: all of these -> the :class:`patternlimit.Request`
- :mod:`patternlimit.integrations.guard`: request -> limiter -> response to send (fail open, logging)
- :mod:`patternlimit.integrations.responses`: decision -> 429/403 problem+json response and RateLimit headers
- :mod:`patternlimit.integrations.fields`: the Structured Field serializer those headers go through
- :mod:`patternlimit.integrations.usage`: the token usage of a response (JSON or server-sent events), as it passes

None of them imports a web framework at load; they know requests, not sketches. See docs/integrations/.
"""

from __future__ import annotations

from patternlimit.integrations.accounts import AccountContext
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.http import RequestInfo
from patternlimit.integrations.responses import Rejection, rejection

__all__ = ["AccountContext", "Rejection", "RequestInfo", "WebConfig", "rejection"]
