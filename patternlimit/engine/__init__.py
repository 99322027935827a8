"""The engine: :class:`Limiter`, the one place that knows request facts, sketches, rules and shared state.

See :mod:`patternlimit.engine.limiter` for the flow and the modules it names for each part.
"""

from __future__ import annotations

from patternlimit.engine.charges import LimitState
from patternlimit.engine.limiter import Limiter, TopPattern

__all__ = ["LimitState", "Limiter", "TopPattern"]
