"""Web integrations: pure ASGI and WSGI middlewares and a decorator, sharing one :class:`WebConfig`.

- :mod:`patternlimit.integrations.asgi`: ``PatternLimitMiddleware`` (FastAPI, Starlette, any ASGI app)
- :mod:`patternlimit.integrations.wsgi`: ``PatternLimitWSGIMiddleware`` (Flask, Django, any WSGI app)
- :mod:`patternlimit.integrations.decorators`: ``limit`` (``@limiter.limit``), ``dependency`` (FastAPI)
- :mod:`patternlimit.integrations.facts`: HTTP request -> :class:`patternlimit.Request` (framework-free)
- :mod:`patternlimit.integrations.responses`: decision -> 429/403 problem+json response (framework-free)

None of them imports a web framework at load; they know requests, not sketches. See docs/integrations/.
"""

from __future__ import annotations

from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.facts import AccountContext, RequestInfo
from patternlimit.integrations.responses import Rejection, rejection

__all__ = ["AccountContext", "Rejection", "RequestInfo", "WebConfig", "rejection"]
