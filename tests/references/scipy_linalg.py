"""References for the scipy.linalg rules (empty without scipy, like the rules themselves)."""

from __future__ import annotations

import numpy as np

try:
    import autograd.numpy as anp
    import autograd.scipy.linalg as asl
except ImportError:  # scipy is missing: the rules are not declared either
    REFERENCES: dict = {}
else:
    def _solve_triangular(a, b, trans=False, lower=False, unit_diagonal=False):
        """A general solve with the triangle solve_triangular reads."""
        n = np.shape(a)[-1]
        k = -1 if unit_diagonal else 0
        read = anp.tril(a, k) if lower else anp.triu(a, -k)
        if unit_diagonal:
            read = read + np.eye(n)
        matrix = anp.swapaxes(read, -1, -2) if trans else read
        return anp.linalg.solve(matrix, b)

    REFERENCES = {
        "solve_triangular": _solve_triangular,
        "solve_sylvester": lambda a, b, q: asl.solve_sylvester(a, b, q),
        "sqrtm": lambda x: asl.sqrtm(x),
    }
