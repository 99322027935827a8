"""The exceptions patternlimit raises.

Every error the library raises on purpose derives from :class:`PatternLimitError`::

    PatternLimitError
      ConfigurationError    bad policy, URI, secret or sketch parameter; wraps the cause (raise ... from exc)
      StorageError          backend failure; keeps the driver exception as __cause__
      SketchMismatchError   merging or loading sketches of different shape or seed

A throttle is a decision, not an exception. Messages name the field or value at fault and what would be valid.
"""

from __future__ import annotations


class PatternLimitError(Exception):
    """Base class of every exception patternlimit raises on purpose."""


class ConfigurationError(PatternLimitError, ValueError):
    """A parameter, policy, storage URI or secret is invalid.

    Also a :class:`ValueError`, so code that guards a constructor with ``except ValueError`` keeps working.
    """


class StorageError(PatternLimitError):
    """The state backend failed; the driver's exception is kept as ``__cause__``."""


class SketchMismatchError(PatternLimitError, ValueError):
    """Two sketches cannot be combined: their shapes, windows or seeds differ."""
