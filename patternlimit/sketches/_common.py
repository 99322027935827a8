"""Validation and serialisation shared by the sketch classes; the kernels themselves never check anything."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from patternlimit._kernels.window import EMPTY
from patternlimit.errors import ConfigurationError, SketchMismatchError

KEY_LIMIT = 1 << 63
"""Keys are keyed hashes reduced to 63 bits, so a Python int key always converts to a numba ``int64``."""

TIME_LIMIT = 1e12
"""Timestamps are epoch seconds in ``[0, 1e12)``: far past year 30000, and exact as doubles."""

COUNT_LIMIT = 1 << 32
"""Increments are below 2**32 (counters are uint32 and saturate)."""

_TIME_TYPES = (float, int, np.float64)

_HEADER = struct.Struct("<4sHQdQQQQ")  # magic, version, seed, bucket_seconds, 4 shape fields


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding window of ``seconds`` split into ``buckets`` equal sub-windows."""

    seconds: float
    buckets: int

    def __post_init__(self) -> None:
        if not (isinstance(self.seconds, int | float) and math.isfinite(self.seconds) and self.seconds > 0):
            raise ConfigurationError(f"window must be a positive number of seconds, got {self.seconds!r}")
        if not isinstance(self.buckets, int) or not 1 <= self.buckets <= 1024:
            raise ConfigurationError(f"buckets must be an int in [1, 1024], got {self.buckets!r}")

    @property
    def bucket_seconds(self) -> float:
        return float(self.seconds) / self.buckets

    def new_ring(self) -> np.ndarray:
        """A fresh ring state: every slot empty, the clock before any time."""
        return np.full(self.buckets + 1, EMPTY, dtype=np.int64)


def check_power_of_two(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high or value & (value - 1):
        raise ConfigurationError(f"{name} must be a power of two in [{low}, {high}], got {value!r}")
    return value


def check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return value


def check_seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 1 << 64:
        raise ConfigurationError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return seed


def check_key(key: object, name: str = "key") -> None:
    if type(key) is not int or not 0 <= key < KEY_LIMIT:
        raise ValueError(f"{name} must be an int in [0, 2**63) (a keyed hash), got {key!r}")


def check_time(now: object) -> None:
    if type(now) not in _TIME_TYPES or not 0.0 <= now < TIME_LIMIT:  # type: ignore[operator]
        raise ValueError(f"now must be epoch seconds in [0, 1e12), got {now!r}")


def check_increment(increment: object) -> None:
    if not isinstance(increment, int) or not 0 <= increment < COUNT_LIMIT:
        raise ValueError(f"increment must be an int in [0, 2**32), got {increment!r}")


def valid_update(key: object, now: object, increment: object = 0) -> bool:
    """The hot-path check of one update's arguments, in one expression (no call per argument).

    On ``False`` call :func:`update_error` for the message; checks that pass cost about 60 ns together.
    """
    return (
        type(key) is int
        and 0 <= key < KEY_LIMIT
        and type(now) in _TIME_TYPES
        and 0.0 <= now < TIME_LIMIT  # type: ignore[operator]
        and type(increment) is int
        and 0 <= increment < COUNT_LIMIT
    )


def update_error(key: object, now: object, increment: object = 0) -> ValueError:
    """The :class:`ValueError` naming whichever of ``key``, ``now`` and ``increment`` is invalid."""
    for check, value in ((check_key, key), (check_time, now), (check_increment, increment)):
        try:
            check(value)
        except ValueError as exc:
            return exc
    return ValueError(f"invalid update arguments: key={key!r}, now={now!r}, increment={increment!r}")


def as_keys(keys: object) -> np.ndarray:
    """Keys as a contiguous ``uint64`` array; rejects negatives and values at or above 2**63."""
    array = np.asarray(keys)
    if array.ndim != 1:
        raise ValueError(f"keys must be one-dimensional, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"keys must be integers, got dtype {array.dtype}")
    if array.size and (array.dtype.kind == "i" and array.min() < 0):
        raise ValueError("keys must be non-negative (keyed hashes in [0, 2**63))")
    result = np.ascontiguousarray(array, dtype=np.uint64)
    if result.size and result.max() >= KEY_LIMIT:
        raise ValueError("keys must be below 2**63 (keyed hashes reduced to 63 bits)")
    return result


def as_times(times: object, count: int) -> np.ndarray:
    """Timestamps as a contiguous ``float64`` array of ``count`` finite values in ``[0, 1e12)``."""
    array = np.ascontiguousarray(np.broadcast_to(np.asarray(times, dtype=np.float64), (count,)))
    if count and not (np.all(array >= 0.0) and np.all(array < TIME_LIMIT)):
        raise ValueError("times must be finite epoch seconds in [0, 1e12)")
    return array


def as_increments(increments: object, count: int) -> np.ndarray:
    """Increments as a contiguous ``int64`` array of ``count`` values in ``[0, 2**32)``."""
    array = np.asarray(increments)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"increments must be integers, got dtype {array.dtype}")
    array = np.ascontiguousarray(np.broadcast_to(array.astype(np.int64), (count,)))
    if count and not (np.all(array >= 0) and np.all(array < 1 << 32)):
        raise ValueError("increments must be in [0, 2**32)")
    return array


def pack(magic: bytes, seed: int, bucket_seconds: float, shape: tuple[int, ...], arrays: list[np.ndarray]) -> bytes:
    """Header (magic, version 1, seed, bucket length, up to four shape fields) followed by the raw arrays."""
    fields = (*shape, 0, 0, 0, 0)[:4]
    header = _HEADER.pack(magic, 1, seed, bucket_seconds, *fields)
    return header + b"".join(np.ascontiguousarray(array).tobytes() for array in arrays)


def read_header(magic: bytes, data: bytes) -> tuple[int, float, tuple[int, int, int, int]]:
    """The seed, bucket length and shape fields of data written by :func:`pack`."""
    if len(data) < _HEADER.size:
        raise SketchMismatchError(f"sketch data is {len(data)} bytes, shorter than its {_HEADER.size}-byte header")
    found, version, seed, bucket_seconds, *fields = _HEADER.unpack_from(data)
    if found != magic or version != 1:
        raise SketchMismatchError(f"sketch data has magic {found!r} v{version}, expected {magic!r} v1")
    return seed, bucket_seconds, (fields[0], fields[1], fields[2], fields[3])


def read_arrays(data: bytes, layouts: list[tuple[tuple[int, ...], type]]) -> list[np.ndarray]:
    """The arrays after the header of data written by :func:`pack`, each copied into its own buffer."""
    body = data[_HEADER.size :]
    expected = sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in layouts)
    if len(body) != expected:
        raise SketchMismatchError(f"sketch body is {len(body)} bytes, its header implies {expected}")
    arrays: list[np.ndarray] = []
    offset = 0
    for shape, dtype in layouts:
        count = int(np.prod(shape))
        arrays.append(np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape).copy())
        offset += count * np.dtype(dtype).itemsize
    return arrays


def align_rings(mine: np.ndarray, theirs: np.ndarray) -> tuple[list[int], list[int]]:
    """Slots to combine (same epoch in both) and slots to take from ``theirs`` (it holds a newer epoch).

    Moves ``mine``'s clock to the later of the two clocks and copies the adopted epochs.
    """
    buckets = len(mine) - 1
    combine, adopt = [], []
    for slot in range(buckets):
        if theirs[slot] == mine[slot]:
            combine.append(slot)
        elif theirs[slot] > mine[slot]:
            adopt.append(slot)
            mine[slot] = theirs[slot]
    mine[buckets] = max(mine[buckets], theirs[buckets])
    return combine, adopt
