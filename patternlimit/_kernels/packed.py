"""The sketch state as one table of addresses: how every limiter kernel takes it.

Each array argument of a compiled function is unboxed on every call from Python (its shape, strides and data
pointer read, a reference taken and dropped), and for the single ``check()`` path the 18 state arrays were most of
the cost of a call that does little else. The kernels here take them instead as rows of ``layout int64[18, 5]``
(``[address, dim0, dim1, dim2, dim3]``, unused dims 0), their five window lengths as ``seconds float64[5]`` and the
heavy hitters' table seed; :func:`unpack_state` rebuilds the 24 state arguments of
:func:`patternlimit._kernels.observe.observe_request` from them with ``numba.carray`` (no copy: the same memory).

* :func:`observe_one_packed`: ``observe_request`` then :func:`patternlimit._kernels.rules.match_rules` for one
  request;
* :func:`observe_batch_packed`: the same for many requests in order (:mod:`patternlimit._kernels.batch`).

:func:`pack_state` builds the table from the 24 state arguments in ``observe_request``'s order and checks each
array's dtype, rank and C-contiguity against :data:`patternlimit._kernels.layout.STATE_ARRAYS`: the kernels trust
the table, so an array of another type would be read as the wrong one. The caller must keep every packed array
alive, and never rebind it, for as long as it uses the table (the limiter's sketch state owns its arrays for its
whole life and restores snapshots in place).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numba import njit, types
from numba.core.typing.templates import Signature
from numba.extending import intrinsic
from numba.np.numpy_support import carray

from patternlimit._kernels.layout import SKETCHES, STATE_ARGUMENTS, STATE_ARRAYS
from patternlimit._kernels.observe import observe_request
from patternlimit._kernels.rules import match_rules

PackedState = tuple[np.ndarray, np.ndarray, int]
"""``(layout, seconds, table_seed)``."""


def _argument_positions() -> tuple[tuple[int, ...], int]:
    """Where each sketch's ``bucket_seconds`` and the table seed sit among the 24 state arguments."""
    seconds, position = [], 0
    for sketch in SKETCHES:
        position += sum(1 for owner, *_ in STATE_ARRAYS if owner == sketch)
        if sketch == "top":
            table_seed = position
            position += 1
        seconds.append(position)
        position += 1
    return tuple(seconds), table_seed


_SECONDS_AT, _TABLE_SEED_AT = _argument_positions()


def pack_state(state: Sequence[Any]) -> PackedState:
    """``(layout, seconds, table_seed)`` for :func:`observe_one_packed` from ``observe_request``'s 24 state arguments;
    raises ``TypeError`` if an array is not of the dtype and rank the kernel reads it as, or not C-contiguous."""
    if len(state) != STATE_ARGUMENTS:
        raise TypeError(f"expected the {STATE_ARGUMENTS} state arguments of observe_request, got {len(state)}")
    arrays = [part for index, part in enumerate(state) if index not in (*_SECONDS_AT, _TABLE_SEED_AT)]
    layout = np.zeros((len(STATE_ARRAYS), 5), dtype=np.int64)
    for row, (array, (sketch, name, dtype, rank)) in enumerate(zip(arrays, STATE_ARRAYS, strict=True)):
        if not (isinstance(array, np.ndarray) and array.dtype == dtype and array.ndim == rank):
            raise TypeError(f"state array {sketch}.{name}: expected {np.dtype(dtype).name}[{rank}d], got {array!r:.80}")
        if not array.flags.c_contiguous or not array.flags.writeable:
            raise TypeError(f"state array {sketch}.{name} must be C-contiguous and writeable")
        layout[row, 0] = array.ctypes.data
        layout[row, 1 : 1 + rank] = array.shape
    seconds = np.array([float(state[index]) for index in _SECONDS_AT], dtype=np.float64)
    return layout, seconds, int(state[_TABLE_SEED_AT])


@intrinsic
def _pointer(typingctx: object, address: types.Type, dtype: types.Type) -> tuple[Signature, Callable[..., Any]]:
    """``address`` (an ``int64``) as a pointer to ``dtype`` (a numpy scalar type such as ``np.uint32``)."""
    target = types.CPointer(dtype.instance_type)  # type: ignore[attr-defined,no-untyped-call]

    def codegen(context: Any, builder: Any, signature: Signature, args: list[Any]) -> Any:
        return builder.inttoptr(args[0], context.get_value_type(target))

    return target(address, dtype), codegen


@njit(cache=True, nogil=True, inline="always")
def _one(layout: np.ndarray, row: int, dtype: Any) -> np.ndarray:  # pragma: no cover - compiled
    return carray(_pointer(layout[row, 0], dtype), (layout[row, 1],))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, inline="always")
def _two(layout: np.ndarray, row: int, dtype: Any) -> np.ndarray:  # pragma: no cover - compiled
    return carray(_pointer(layout[row, 0], dtype), (layout[row, 1], layout[row, 2]))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, inline="always")
def _three(layout: np.ndarray, row: int, dtype: Any) -> np.ndarray:  # pragma: no cover - compiled
    shape = (layout[row, 1], layout[row, 2], layout[row, 3])
    return carray(_pointer(layout[row, 0], dtype), shape)  # type: ignore[call-arg]


@njit(cache=True, nogil=True, inline="always")
def _four(layout: np.ndarray, row: int, dtype: Any) -> np.ndarray:  # pragma: no cover - compiled
    shape = (layout[row, 1], layout[row, 2], layout[row, 3], layout[row, 4])
    return carray(_pointer(layout[row, 0], dtype), shape)  # type: ignore[call-arg]


@njit(cache=True, nogil=True, inline="always")
def unpack_state(layout: np.ndarray, seconds: np.ndarray, table_seed: int) -> Any:  # pragma: no cover - compiled
    """The 24 state arguments of ``observe_request`` (rows of ``layout`` in ``STATE_ARRAYS`` order)."""
    return (
        _three(layout, 0, np.uint32),
        _one(layout, 1, np.int64),
        _one(layout, 2, np.uint64),
        seconds[0],
        _four(layout, 3, np.uint8),
        _one(layout, 4, np.int64),
        _one(layout, 5, np.uint64),
        _three(layout, 6, np.float64),
        seconds[1],
        _four(layout, 7, np.uint8),
        _one(layout, 8, np.int64),
        _one(layout, 9, np.uint64),
        _three(layout, 10, np.float64),
        seconds[2],
        _two(layout, 11, np.uint64),
        _one(layout, 12, np.int64),
        _one(layout, 13, np.uint64),
        seconds[3],
        _three(layout, 14, np.int64),
        _two(layout, 15, np.int32),
        _two(layout, 16, np.int64),
        _one(layout, 17, np.int64),
        table_seed,
        seconds[4],
    )


@njit(cache=True, nogil=True)
def observe_one_packed(
    layout: np.ndarray,
    seconds: np.ndarray,
    table_seed: int,
    keys: np.ndarray,
    count: int,
    account: int,
    content: int,
    network: int,
    young: bool,
    now: float,
    cost: int,
    gate: int,
    copy_count: int,
    out: np.ndarray,
    conditions: np.ndarray,
    starts: np.ndarray,
    masks: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``observe_request`` then ``match_rules`` on the state ``layout`` and ``seconds`` describe (see
    :func:`pack_state`)."""
    observe_request(  # type: ignore[call-arg]  # the stubs cannot count a star-argument tuple's items
        *unpack_state(layout, seconds, table_seed),
        keys,
        count,
        account,
        content,
        network,
        young,
        now,
        cost,
        gate,
        copy_count,
        out,
    )
    match_rules(out, count, gate, conditions, starts, masks)
