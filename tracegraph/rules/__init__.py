"""THE DERIVATIVE TABLE: one declaration per primitive.

Importing this package fills :data:`tracegraph.core.REGISTRY`.  Each module
is one section of the table:

- :mod:`.arithmetic`  + − × ÷ **, negation, abs, square, maximum, minimum, where, clip
- :mod:`.elementwise` exp, log, sqrt, trig and hyperbolic functions
- :mod:`.reductions`  sum, mean, max, min, norm
- :mod:`.linalg`      matmul (and np.dot)
- :mod:`.shape`       reshape, transpose, indexing, concatenate, stack, broadcast_to
- :mod:`.neural`      sigmoid, relu, softmax, logsumexp, the losses
- :mod:`.numpy_api`   numpy functions routed to the primitives above

Example:
    >>> from tracegraph.core import REGISTRY
    >>> REGISTRY["sigmoid"].formulas[0]
    '{out:p}·(1 − {out:p})'
"""

from . import arithmetic, elementwise, linalg, neural, numpy_api, reductions, shape  # noqa: F401
