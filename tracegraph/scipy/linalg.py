"""``scipy.linalg`` for traced values: solve_triangular, solve_sylvester, sqrtm.

Every other name is scipy.linalg's own, for plain values (scipy.linalg converts
its arguments with ``np.asarray``, which tracegraph refuses on traced values).

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.scipy import linalg
    >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> t = tg.trace(lambda b: np.sum(linalg.solve_triangular(L, b, lower=True)),
    ...              b=np.ones(2))
    >>> t.value, t.grads["b"].tolist()
    (1.0, [0.0, 1.0])
    >>> float(linalg.det(np.eye(2)))               # scipy.linalg's own
    1.0
"""

from __future__ import annotations

from typing import Any

import scipy.linalg as _scipy_linalg

from ..rules.scipy_linalg import solve_sylvester, solve_triangular, sqrtm

__all__ = ["solve_sylvester", "solve_triangular", "sqrtm"]


def __getattr__(name: str) -> Any:
    return getattr(_scipy_linalg, name)
