"""An HTTP request -> the :class:`patternlimit.Request` the limiter decides on, under one :class:`WebConfig`.

Each field comes from the module that knows it: the account from :mod:`~patternlimit.integrations.accounts`, the
client address and client string from :mod:`~patternlimit.integrations.http`, the text from the body through
``config.select_text`` (:mod:`~patternlimit.integrations.body`). The ASGI middleware builds the same request from
the raw header list without a :class:`RequestInfo`; a test holds the two paths equal.
"""

from __future__ import annotations

from patternlimit.integrations.accounts import AccountFields, default_account
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.http import RequestInfo, client_ip, client_of
from patternlimit.request import Request


def account_of(info: RequestInfo, config: WebConfig) -> str | None:
    """The account id of ``info``: the configured ``account`` hook, or :func:`default_account`."""
    if config.account is not None:
        return config.account(info)
    return default_account(info, config.digest_key)


def build_request(
    info: RequestInfo,
    config: WebConfig,
    account: str | None,
    fields: AccountFields,
    body: bytes,
    complete: bool,
) -> Request:
    """The :class:`patternlimit.Request` for ``info``, its account's ``fields`` and the body prefix read for it."""
    peer_trusted = bool(config.networks) and config.trusted(info.peer)
    cap = config.max_body_bytes
    header = config.client_header
    return Request(
        account=account,
        ip=client_ip(info, config.trusted, config.forwarded_header) if peer_trusted else info.peer,
        text=config.select_text(body if len(body) <= cap else body[:cap], complete),
        route=config.route(info) if config.route is not None else info.path,
        client=client_of(
            info.headers,
            "\n".join([name for name, _ in info.headers]),
            info.header("user-agent"),
            info.header(header) if header and peer_trusted else None,
        ),
        account_created_at=fields.created_at,
        attributes=fields.attributes,
    )
