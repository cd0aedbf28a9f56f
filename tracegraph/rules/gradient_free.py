"""numpy callables whose result carries no gradient: they run on plain values.

Comparisons, ``np.argmax``, ``np.zeros_like`` ... are piecewise
constant (or ignore their argument's value), so cutting the trace there is
exact: their derivative is zero wherever it exists.  The trace records each
result as a guard, so a replay (``tg.descend``) notices when the code would
have taken another branch.  Shape queries need no guard (shapes never change).
Rounding and ``np.sign`` are primitives instead (:mod:`.piecewise`): nodes whose
edges show the local derivative 0.
"""

from __future__ import annotations

import numpy as np

from ..extend import pass_through

pass_through(
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isnan, np.isinf, np.isfinite,
    np.signbit,
    np.argmax, np.argmin, np.argsort, np.zeros_like, np.ones_like, np.empty_like,
    np.isclose, np.allclose, np.array_equal, np.nonzero,
    np.count_nonzero, np.any, np.all, np.triu_indices_from, np.tril_indices_from,
)
pass_through(np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
             static=True)
