"""Matrix products: ``@`` / ``np.matmul`` (and ``np.dot`` up to 2-D).

1-D operands are promoted the way numpy does (a leading or trailing axis of
length 1), the VJP is computed on the promoted arrays, and the extra axis is
dropped again; batch dimensions are unbroadcast by the backward pass.
"""

from __future__ import annotations

import numpy as np

from ..core.var import matmul, multiply, plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive, reject_arguments


def _promoted(x, y, g):
    x_ndim, y_ndim = np.ndim(plain_value(x)), np.ndim(plain_value(y))
    x2 = np.expand_dims(x, 0) if x_ndim == 1 else x
    y2 = np.expand_dims(y, -1) if y_ndim == 1 else y
    if x_ndim == 1:
        g = np.expand_dims(g, -2)
    if y_ndim == 1:
        g = np.expand_dims(g, -1)
    return x2, y2, g


def _matmul_vjp_x(g, out, x, y):
    x_ndim, y_ndim = np.ndim(plain_value(x)), np.ndim(plain_value(y))
    if x_ndim == 2 and y_ndim == 2:
        return g @ np.transpose(y)
    if x_ndim == 1 and y_ndim == 1:  # dot product: scalar output
        return g * y
    x2, y2, g2 = _promoted(x, y, g)
    grad = g2 @ np.swapaxes(y2, -1, -2)
    return grad[..., 0, :] if x_ndim == 1 else grad


def _matmul_vjp_y(g, out, x, y):
    x_ndim, y_ndim = np.ndim(plain_value(x)), np.ndim(plain_value(y))
    if x_ndim == 2 and y_ndim == 2:
        return np.transpose(x) @ g
    if x_ndim == 1 and y_ndim == 1:
        return g * x
    x2, y2, g2 = _promoted(x, y, g)
    grad = np.swapaxes(x2, -1, -2) @ g2
    return grad[..., 0] if y_ndim == 1 else grad


def _matmul_sample(rng):
    n, k, m = (int(v) for v in rng.integers(1, 4, size=3))
    kind = int(rng.integers(0, 5))
    shapes = [((n, k), (k, m)), ((k,), (k, m)), ((n, k), (k,)), ((k,), (k,)),
              ((2, n, k), (k, m))][kind]
    return (rng.normal(size=shapes[0]), rng.normal(size=shapes[1])), {}


def _dot_route(prim, a, b, out=None):
    reject_arguments("np.dot", out=out)
    a_ndim, b_ndim = np.ndim(plain_value(a)), np.ndim(plain_value(b))
    if a_ndim == 0 or b_ndim == 0:
        return multiply(a, b)
    if a_ndim <= 2 and b_ndim <= 2:
        return prim(a, b)
    raise UnsupportedOperationError(
        "np.dot on arrays of more than 2 dimensions",
        hint="use np.matmul / @ (which broadcasts batch dimensions) instead")


def _outer_route(prim, a, b, out=None):
    reject_arguments("np.outer", out=out)
    return multiply(np.reshape(a, (-1, 1)), np.reshape(b, (1, -1)))


def _inner_route(prim, a, b):
    if np.ndim(plain_value(a)) == 1 and np.ndim(plain_value(b)) == 1:
        return prim(a, b)
    raise UnsupportedOperationError("np.inner on arrays of more than 1 dimension",
                                    hint="use a @ b.T or np.matmul")


defprimitive(
    matmul, np.matmul, display="{x:p} @ {y:p}", category="linear algebra",
    numpy={np.matmul: None, np.dot: _dot_route, np.outer: _outer_route, np.inner: _inner_route},
    grads={"x": (_matmul_vjp_x, "ḡ @ {y:p}ᵀ"),
           "y": (_matmul_vjp_y, "{x:p}ᵀ @ ḡ")},
    sample=_matmul_sample,
    doc="matrix product x @ y (1-D operands promoted as numpy does)",
)
