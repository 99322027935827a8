"""Fixed-memory, windowed sketches over keyed 63-bit keys; each owns numpy state and calls the kernels.

* :class:`CountMinSketch`: hits per key in the last W seconds (count-min, conservative update).
* :class:`SpreadSketch`: distinct items (accounts) per key in the last W seconds (count-min of HyperLogLogs).
* :class:`HeavyHitters`: the keys with the most hits in the last W seconds (SpaceSaving per bucket, merged).
* :class:`SeenFilter`: has this key been seen in the last W seconds (a windowed Bloom filter)?
"""

from __future__ import annotations

from patternlimit.sketches.countmin import CountMinSketch
from patternlimit.sketches.seen import SeenFilter
from patternlimit.sketches.spread import SpreadSketch
from patternlimit.sketches.topk import HeavyHitters

__all__ = ["CountMinSketch", "HeavyHitters", "SeenFilter", "SpreadSketch"]
