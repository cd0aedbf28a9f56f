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
- :mod:`.convolution`    np.convolve / np.correlate (and scipy.signal's, any dimension)
- :mod:`.gradient_free`  comparisons, argmax, isnan ... (no gradient; guarded)

With scipy installed (never needed by ``import tracegraph``):

- :mod:`.scipy_special`  erf, gamma, digamma, polygamma, beta, logit, xlogy, Bessel ...:
  declared the first time one of scipy.special's ufuncs meets a traced value
- :mod:`.scipy_stats`    norm, t, gamma, beta, chi2, poisson, multivariate_normal,
  dirichlet (reached through :mod:`tracegraph.scipy.stats`)
- :mod:`.scipy_linalg`   solve_triangular, solve_sylvester, sqrtm (reached through
  :mod:`tracegraph.scipy.linalg`)

At every tie (relu at 0, max of equal elements, clip on a bound) the tied
pieces share the gradient equally: docs/non-differentiable.md.

Example:
    >>> from tracegraph.core import REGISTRY
    >>> REGISTRY["sigmoid"].formulas[0]
    '{out:p}·(1 − {out:p})'
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np

from ..core import registry
from . import (  # noqa: F401  (in the order `tracegraph rules` lists them)
    arithmetic,
    arrange,
    convolution,
    decompositions,
    einsum,
    elementwise,
    gradient_free,
    linalg,
    neural,
    norms,
    order,
    piecewise,
    reductions,
    selection,
    shape,
    statistics,
)
from .arithmetic import ARITHMETIC
from .elementwise import ELEMENTWISE
from .piecewise import PIECEWISE
from .scipy_names import MIRRORED

POINTWISE = frozenset(
    [p for p in registry.REGISTRY.values() if p.category in (ARITHMETIC, ELEMENTWISE, PIECEWISE)]
    + [neural.RELU, neural.SIGMOID])
"""The built-in rules that compute each output element from the same element of each
input (broadcasting aside): their VJP sends element i of the upstream gradient to
element i alone, so a zero there contributes zero (see ``autodiff.backward``)."""

registry.REPLACEMENTS.update(MIRRORED)


def load_scipy_rules() -> bool:
    """Declare the scipy rules (scipy.special, scipy.stats, scipy.linalg); False without scipy.

    ``import tracegraph`` never imports scipy: scipy.special's rules are declared
    the first time one of its ufuncs meets a traced value, scipy.stats' when
    :mod:`tracegraph.scipy.stats` is imported.  ``tracegraph rules`` calls this to
    list them all.

    Example:
        >>> load_scipy_rules(), "erf" in registry.REGISTRY
        (True, True)
    """
    try:
        importlib.import_module("scipy.special")
        importlib.import_module("scipy.stats")
        importlib.import_module("scipy.linalg")
    except ImportError:
        return False
    importlib.import_module(f"{__name__}.scipy_special")
    importlib.import_module(f"{__name__}.scipy_stats")
    importlib.import_module(f"{__name__}.scipy_linalg")
    return True


def _load_special_for(func: Any) -> bool:
    """The core's deferred loader: a scipy.special ufunc met a traced value."""
    special = sys.modules.get("scipy.special")
    if special is None or f"{__name__}.scipy_special" in sys.modules:
        return False
    if not isinstance(func, np.ufunc) or getattr(special, func.__name__, None) is not func:
        return False
    importlib.import_module(f"{__name__}.scipy_special")
    return True


registry.LOADERS.append(_load_special_for)
