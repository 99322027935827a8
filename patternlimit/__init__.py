"""patternlimit: context-aware rate limiting on request patterns.

Per-account limits cannot see a campaign spread over thousands of accounts; patternlimit counts the *pattern*
(prompt template, near-duplicate band, network prefix, client fingerprint) across accounts in fixed-memory,
numba-compiled sketches. See ``docs/`` for the guide.
"""

from __future__ import annotations

from patternlimit.errors import ConfigurationError, PatternLimitError, SketchMismatchError, StorageError
from patternlimit.keying import Keyring

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "Keyring",
    "PatternLimitError",
    "SketchMismatchError",
    "StorageError",
    "__version__",
]
