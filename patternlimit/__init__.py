"""patternlimit: context-aware rate limiting on request patterns.

Per-account limits cannot see a campaign spread over thousands of accounts; patternlimit counts the *pattern*
(prompt template, near-duplicate band, network prefix, client fingerprint) across accounts in fixed-memory,
numba-compiled sketches, weighs account context, and decides per request. See ``docs/`` for the guide.
"""

from __future__ import annotations

from patternlimit.engine import Limiter, TopPattern
from patternlimit.errors import (
    ConfigurationError,
    InvalidRequestError,
    PatternLimitError,
    RateLimitExceeded,
    SketchMismatchError,
    StorageError,
)
from patternlimit.keying import Keyring
from patternlimit.policy.decision import Action, Decision, PatternRef
from patternlimit.policy.loading import load_policy
from patternlimit.policy.models import Policy
from patternlimit.replication import StorageStatus
from patternlimit.request import Request
from patternlimit.storage.options import StorageOptions

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ConfigurationError",
    "Decision",
    "InvalidRequestError",
    "Keyring",
    "Limiter",
    "PatternLimitError",
    "PatternRef",
    "Policy",
    "RateLimitExceeded",
    "Request",
    "SketchMismatchError",
    "StorageError",
    "StorageOptions",
    "StorageStatus",
    "TopPattern",
    "__version__",
    "load_policy",
]
