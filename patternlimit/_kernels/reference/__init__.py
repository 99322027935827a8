"""Plain-Python twins of the kernels: loops over Python ints, no numba, written for reading, not speed.

One module per kernel module. Each function takes the same arrays and scalars as its kernel and must leave them in
the same state and return the same value, bit for bit; the tests compare the two on generated streams. Arithmetic
that the kernels do on ``uint64`` is done here on Python ints masked to 64 bits.
"""
