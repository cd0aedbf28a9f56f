"""Matrix products: ``@`` / ``np.matmul`` (and ``np.dot`` up to 2-D).

1-D operands are promoted the way numpy does (a leading or trailing axis of
length 1), the VJP is computed on the promoted arrays, and the extra axis is
dropped again; batch dimensions are unbroadcast by the backward pass.
"""

from __future__ import annotations

import numpy as np

from ._declare import defprimitive


def _promoted(x, y, g):
    x2 = x[np.newaxis, :] if x.ndim == 1 else x
    y2 = y[:, np.newaxis] if y.ndim == 1 else y
    if x.ndim == 1:
        g = np.expand_dims(g, -2)
    if y.ndim == 1:
        g = np.expand_dims(g, -1)
    return x2, y2, g


def _matmul_vjp_x(g, out, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 2 and y.ndim == 2:
        return g @ y.T
    if x.ndim == 1 and y.ndim == 1:  # dot product: scalar output
        return g * y
    x2, y2, g2 = _promoted(x, y, g)
    grad = g2 @ np.swapaxes(y2, -1, -2)
    return grad[..., 0, :] if x.ndim == 1 else grad


def _matmul_vjp_y(g, out, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 2 and y.ndim == 2:
        return x.T @ g
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    x2, y2, g2 = _promoted(x, y, g)
    grad = np.swapaxes(x2, -1, -2) @ g2
    return grad[..., 0] if y.ndim == 1 else grad


def _matmul_sample(rng):
    n, k, m = (int(v) for v in rng.integers(1, 4, size=3))
    kind = int(rng.integers(0, 5))
    shapes = [((n, k), (k, m)), ((k,), (k, m)), ((n, k), (k,)), ((k,), (k,)),
              ((2, n, k), (k, m))][kind]
    return (rng.normal(size=shapes[0]), rng.normal(size=shapes[1])), {}


defprimitive(
    "matmul", np.matmul, display="{x:p} @ {y:p}", numpy=(np.matmul,), category="linear algebra",
    grads={"x": (_matmul_vjp_x, "ḡ @ {y:p}ᵀ"),
           "y": (_matmul_vjp_y, "{x:p}ᵀ @ ḡ")},
    sample=_matmul_sample,
    doc="matrix product x @ y (1-D operands promoted as numpy does)",
)
