"""The exceptions patternlimit raises.

Every error the library raises on purpose derives from :class:`PatternLimitError`::

    PatternLimitError
      ConfigurationError    bad policy, URI, secret or sketch parameter; wraps the cause (raise ... from exc)
      InvalidRequestError   a Request field, a time or a batch the limiter cannot take; also TypeError and ValueError
      StorageError          backend failure; keeps the driver exception as __cause__
      SketchMismatchError   merging or loading sketches of different shape or seed
      RateLimitExceeded     raised only by the ``limit`` decorator on a throttle or block; carries ``.decision``

A throttle is a decision, not an exception. Messages name the field or value at fault and what would be valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patternlimit.policy.decision import Decision


class PatternLimitError(Exception):
    """Base class of every exception patternlimit raises on purpose."""


class ConfigurationError(PatternLimitError, ValueError):
    """A parameter, policy, storage URI or secret is invalid.

    Also a :class:`ValueError`, so code that guards a constructor with ``except ValueError`` keeps working.
    """


class InvalidRequestError(PatternLimitError, TypeError, ValueError):
    """A :class:`~patternlimit.Request` field, a ``now`` or a ``check_many`` batch is not what the limiter takes.

    Raised when the request is built (``Request(account=5)``) or checked (``now=float("inf")``), never later: a
    request that was accepted once is accepted every time. Also a :class:`TypeError` and a :class:`ValueError`, as
    Python's own argument errors are, so ``except TypeError`` / ``except ValueError`` guards keep working. The
    message names the field (``Request.route``, ``requests[99]``) and what would be valid.
    """


class StorageError(PatternLimitError):
    """The state backend failed; the driver's exception is kept as ``__cause__``."""


class SketchMismatchError(PatternLimitError, ValueError):
    """Two sketches cannot be combined: their shapes, windows or seeds differ."""


class RateLimitExceeded(PatternLimitError):  # noqa: N818 - the name the design card and peers use
    """A handler wrapped by ``limit(limiter, ...)`` was throttled or blocked; ``decision`` says why.

    Raised only by the decorator (the middlewares answer 429/403 themselves). Map it to a response with
    :func:`patternlimit.integrations.responses.rejection`, or let the ASGI/WSGI middleware do it.
    """

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"request {decision.action.value} by rule {decision.rule!r}")
        self.decision = decision
