"""A kernel's compiled entry point for one fixed signature: called without numba's per-call type dispatch.

Calling an ``@njit`` function from Python first computes the numba type of every argument and looks the tuple up
among the compiled overloads; only then does the compiled wrapper unbox the arguments and run the code. For a hot
call site whose argument types never change (the limiter's sketch state and its own buffers), that lookup is paid
for nothing, and it grows with the number of arguments: for the engine's observe kernel (17 arguments, the state
packed into one table) it is a sizeable share of a call that observes nothing.

:func:`direct` returns the overload's ``entry_point`` (the compiled wrapper itself), or the dispatcher when numba
does not expose one. The wrapper converts each argument to the type it was compiled for **without checking** that
it is one: an array of another dtype or rank would be read as if it were the compiled one. So a direct entry is
only for call sites that pass the very arrays, and scalars of the very Python types, of ``example``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import typeof


def direct(kernel: Any, *example: Any) -> Callable[..., Any]:
    """``kernel``'s compiled entry point for the numba types of ``example`` (compiled or loaded from the cache now,
    by calling ``kernel(*example)``: pick an ``example`` whose call changes nothing), or ``kernel`` itself if that
    overload or its entry point cannot be found."""
    kernel(*example)
    try:
        signature = tuple(typeof(argument) for argument in example)  # type: ignore[no-untyped-call]
        entry = kernel.overloads[signature].entry_point
    except (AttributeError, KeyError, TypeError, ValueError):
        return kernel
    return entry if callable(entry) else kernel
