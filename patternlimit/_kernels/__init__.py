"""numba kernels: pure functions over numpy arrays and scalars, and their plain-Python reference twins.

Nothing here knows about requests, Redis or HTTP. Kernels never raise: the classes in
:mod:`patternlimit.sketches` validate arguments before calling them. Each kernel's docstring states the arrays it
mutates, their shapes and dtypes, and where the algorithm comes from.
"""
