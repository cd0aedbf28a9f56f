"""THE DERIVATIVE TABLE: one declaration per primitive, through :func:`tracegraph.defprimitive`.

Importing this package fills :data:`tracegraph.core.REGISTRY`.  Each module
is one section of the table; each row declares the implementation, one VJP
and formula per input, the numpy routes (with their adapters) and the
sampling domain:

- :mod:`.arithmetic`     + − × ÷ **, negation, abs, square, maximum, minimum, where, clip
- :mod:`.elementwise`    exp, log, sqrt, trig and hyperbolic functions
- :mod:`.reductions`     sum, mean, max, min, norm
- :mod:`.linalg`         matmul (and np.dot, np.outer, np.inner)
- :mod:`.shape`          reshape, transpose, indexing, concatenate, stack, broadcast_to, pack
- :mod:`.neural`         sigmoid, relu, softmax, logsumexp, the losses
- :mod:`.gradient_free`  comparisons, argmax, sign ... (no gradient; guarded)

Example:
    >>> from tracegraph.core import REGISTRY
    >>> REGISTRY["sigmoid"].formulas[0]
    '{out:p}·(1 − {out:p})'
"""

from . import (  # noqa: F401
    arithmetic, elementwise, gradient_free, linalg, neural, piecewise, reductions, shape,
)
