"""THE DERIVATIVE TABLE: one declaration per primitive, through :func:`tracegraph.defprimitive`.

Importing this package fills :data:`tracegraph.core.REGISTRY`.  Each module
is one section of the table; each row declares the implementation, one VJP
and formula per input, the numpy routes (with their adapters) and the
sampling domain:

- :mod:`.arithmetic`     + − × ÷ **, negation, abs, square, maximum, minimum, where, clip
- :mod:`.elementwise`    exp, log, sqrt, trig and hyperbolic functions
- :mod:`.reductions`     sum, mean, max, min, the 2-norm
- :mod:`.linalg`         matmul, np.dot, inner, vdot, outer, kron, tensordot, trace,
  diagonal, diag, tril, triu, cross
- :mod:`.einsum`         np.einsum
- :mod:`.decompositions` np.linalg inv, solve, det, slogdet, pinv, cholesky, qr, eigh, svd
- :mod:`.norms`          np.linalg.norm of every other order
- :mod:`.shape`          reshape, transpose, indexing, concatenate, stack, broadcast_to, pack
- :mod:`.indexing`       np.take, take_along_axis, flip, split ... as indexing (routes only)
- :mod:`.arrange`        tile, repeat, roll, rot90, pad
- :mod:`.selection`      sort, partition, select
- :mod:`.neural`         sigmoid, relu, softmax, logsumexp, the losses
- :mod:`.gradient_free`  comparisons, argmax, sign ... (no gradient; guarded)

Example:
    >>> from tracegraph.core import REGISTRY
    >>> REGISTRY["sigmoid"].formulas[0]
    '{out:p}·(1 − {out:p})'
"""

from . import arithmetic, elementwise, gradient_free, linalg, neural, reductions, shape  # noqa: F401
from . import arrange, decompositions, einsum, norms, selection  # noqa: F401  (built on the above)
