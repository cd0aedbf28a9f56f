"""THE DERIVATIVE TABLE: one declaration per primitive, through :func:`tracegraph.defprimitive`.

Importing this package fills :data:`tracegraph.core.REGISTRY`.  Each module
is one section of the table; each row declares the implementation, one VJP
and formula per input, the numpy routes (with their adapters) and the
sampling domain:

- :mod:`.arithmetic`     + − × ÷ **, negation, abs, square, maximum, minimum, where, clip
- :mod:`.elementwise`    exp and the log family, roots, trig, hyperbolic and their inverses,
  arctan2, hypot, logaddexp
- :mod:`.piecewise`      floor, ceil, round, sign ... (slope 0, drawn), %, //, nan_to_num
- :mod:`.reductions`     sum, mean, max, min (where=, initial=, dtype=), norm
- :mod:`.statistics`     var, std, prod, cumsum, cumprod, average, nansum, nanmean, diff
- :mod:`.order`          median, quantile/percentile, ptp (selections)
- :mod:`.linalg`         matmul (and np.dot, np.outer, np.inner)
- :mod:`.shape`          reshape, transpose, indexing, concatenate, stack, broadcast_to, pack
- :mod:`.neural`         sigmoid, relu, softmax, logsumexp, the losses
- :mod:`.gradient_free`  comparisons, argmax, isnan ... (no gradient; guarded)

At every tie (relu at 0, max of equal elements, clip on a bound) the tied
pieces share the gradient equally: docs/non-differentiable.md.

Example:
    >>> from tracegraph.core import REGISTRY
    >>> REGISTRY["sigmoid"].formulas[0]
    '{out:p}·(1 − {out:p})'
"""

from . import (  # noqa: F401
    arithmetic, elementwise, gradient_free, linalg, neural, order, piecewise, reductions, shape,
    statistics,
)
