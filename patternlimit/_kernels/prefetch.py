"""Software prefetch of one array element's cache line, for kernels whose cost is memory latency.

``prefetch(array, index)`` asks the CPU to start loading the cache line that holds ``array[index]`` (``index`` an
integer for a 1-d array, or a tuple of integers, one per dimension, exactly as ``array[index]`` would be written)
and returns at once; a later load of that line then finds it in cache, or at least already on its way. It is only a
hint: it changes no value and never faults, so a kernel's results are the same with or without it. Indices are
neither bounds-checked nor wrapped (a negative index is not counted from the end): pass the indices the access
itself will use.

Why: a sketch update reads a few cells at random in tens of MiB of counters, so each read is a cache miss of about
a hundred nanoseconds, and a kernel that updates several sketches for several keys runs those misses one after
another (each key's cells depend only on the key, but the code waits on one before asking for the next). Computing
every cell a call will touch first and prefetching them lets the misses overlap (memory-level parallelism); the
update then runs on lines already in cache. :mod:`patternlimit._kernels.observe` measures the gain.

Numba has no public spelling of a prefetch, so this is an ``@intrinsic`` that emits LLVM's ``llvm.prefetch``
(read, locality 3 = keep in every cache level, data cache): ``prefetcht0`` on x86-64, ``prfm pldl1keep`` on
AArch64. Like every intrinsic it can only be called from compiled code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.typing.templates import Signature
from numba.extending import intrinsic

_READ = 0
_KEEP_IN_ALL_LEVELS = 3
_DATA_CACHE = 1


def _index_types(index: types.Type) -> tuple[types.Integer, ...] | None:
    """The integer types of an index (an integer, or a tuple of integers), or None if it is neither."""
    if isinstance(index, types.Integer):
        return (index,)
    if isinstance(index, types.Tuple | types.UniTuple) and all(isinstance(part, types.Integer) for part in index.types):
        return tuple(index.types)
    return None


@intrinsic
def _prefetch(typingctx: object, array: types.Type, index: types.Type) -> tuple[Signature, Callable[..., Any]] | None:
    """LLVM's ``llvm.prefetch`` of ``&array[index]``; typing fails (no match) for anything but an integer index or
    a tuple of one integer per dimension."""
    parts = _index_types(index)
    if not isinstance(array, types.Array) or parts is None or len(parts) != array.ndim:
        return None

    def codegen(context: Any, builder: Any, signature: Signature, args: list[Any]) -> Any:
        array_type, index_type = signature.args
        data = context.make_array(array_type)(context, builder, args[0])
        if isinstance(index_type, types.Integer):
            values = [args[1]]
        else:
            values = [builder.extract_value(args[1], position) for position in range(len(parts))]
        indices = [context.cast(builder, value, part, types.intp) for value, part in zip(values, parts, strict=True)]
        pointer = cgutils.get_item_pointer(context, builder, array_type, data, indices)  # type: ignore[no-untyped-call]
        byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        word = ir.IntType(32)
        # llvmlite mangles the name for the pointer type (``.p0i8`` with typed pointers, ``.p0`` with opaque ones).
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer.type], ir.FunctionType(ir.VoidType(), [byte_pointer.type, word, word, word])
        )
        builder.call(function, [byte_pointer, word(_READ), word(_KEEP_IN_ALL_LEVELS), word(_DATA_CACHE)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, nogil=True, inline="always")
def prefetch(array: np.ndarray, index: object) -> None:  # pragma: no cover - compiled
    """Start loading the cache line of ``array[index]``; see the module docstring."""
    _prefetch(array, index)  # type: ignore[call-arg, arg-type]
