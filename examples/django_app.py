"""A one-file Django project behind patternlimit's WSGI middleware. Run: ``gunicorn examples.django_app``."""

from __future__ import annotations

import hashlib
import os
import time

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key"),
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    MIDDLEWARE=[],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from patternlimit import Limiter  # noqa: E402
from patternlimit.integrations import AccountContext, RequestInfo  # noqa: E402
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware  # noqa: E402

limiter = Limiter()

# Your user store (in a real project: the User model's date_joined, looked up by API key).
CREATED = {"ci-harness": time.time() - 400 * 86400}


def account_context(account: str, info: RequestInfo) -> AccountContext | None:
    api_key = info.header("x-api-key") or ""
    created = CREATED.get(api_key, time.time() if api_key.startswith("young-") else None)
    return None if created is None else AccountContext(created_at=created)


@csrf_exempt
def messages(request: HttpRequest) -> JsonResponse:
    digest, size = hashlib.sha256(), 0
    while chunk := request.read(65536):
        digest.update(chunk)
        size += len(chunk)
    return JsonResponse({"sha256": digest.hexdigest(), "bytes": size})


urlpatterns = [path("v1/messages", messages)]

# In a project made by startproject, wrap the application in wsgi.py the same way.
application = PatternLimitWSGIMiddleware(
    get_wsgi_application(),
    limiter=limiter,
    json_fields=["messages[*].content"],
    account_context=account_context,
)
