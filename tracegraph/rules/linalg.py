"""Products and matrix structure: ``@``/matmul, np.dot, inner, vdot, outer, kron, tensordot,
trace, diagonal, diag, tril, triu, cross.

np.dot follows numpy exactly: up to 2-D (or with a 1-D operand) it is ``@``;
for N-D operands it sums the last axis of ``a`` with the second-to-last of
``b`` (a tensordot, not matmul's batching).  np.inner on N-D arrays is a
tensordot over the last axes.  1-D operands of matmul are promoted the way
numpy does (a leading or trailing axis of length 1), the VJP is computed on
the promoted arrays, and the extra axis is dropped again; batch dimensions
are unbroadcast by the backward pass.

Every VJP here is written with primitives and routed numpy functions, so
each rule differentiates twice.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.arrays import unbroadcast
from ..core.var import matmul, multiply, plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive, reject_arguments
from ..formula import Symbols
from .shape import SCATTER_ADD, available, normalize_axes

LINALG = "linear algebra"


def _ndim(a) -> int:
    return np.ndim(plain_value(a))


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def matrix_transpose(a):
    """Swap the last two axes (``a.mT``); works on traced values.

    Example:
        >>> matrix_transpose(np.zeros((2, 3, 4))).shape
        (2, 4, 3)
    """
    return np.swapaxes(a, -1, -2)


def _random_shape(rng, low=1, high=4, ndim=None):
    ndim = int(rng.integers(0, 4)) if ndim is None else ndim
    return tuple(int(n) for n in rng.integers(low, high, size=ndim))


# --------------------------------------------------------------------------- matmul


def _promoted(x, y, g):
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    x2 = np.expand_dims(x, 0) if x_ndim == 1 else x
    y2 = np.expand_dims(y, -1) if y_ndim == 1 else y
    if x_ndim == 1:
        g = np.expand_dims(g, -2)
    if y_ndim == 1:
        g = np.expand_dims(g, -1)
    return x2, y2, g


def _matmul_vjp_x(g, out, x, y):
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:
        return g @ np.transpose(y)
    if x_ndim == 1 and y_ndim == 1:  # dot product: scalar output
        return g * y
    _, y2, g2 = _promoted(x, y, g)
    grad = g2 @ matrix_transpose(y2)
    return grad[..., 0, :] if x_ndim == 1 else grad


def _matmul_vjp_y(g, out, x, y):
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:
        return np.transpose(x) @ g
    if x_ndim == 1 and y_ndim == 1:
        return g * x
    x2, _, g2 = _promoted(x, y, g)
    grad = matrix_transpose(x2) @ g2
    return grad[..., 0] if y_ndim == 1 else grad


def _matmul_sample(rng):
    n, k, m = (int(v) for v in rng.integers(1, 4, size=3))
    kind = int(rng.integers(0, 7))
    shapes = [((n, k), (k, m)), ((k,), (k, m)), ((n, k), (k,)), ((k,), (k,)),
              ((2, n, k), (k, m)), ((2, 1, n, k), (3, k, m)), ((k,), (2, k, m))][kind]
    return (rng.normal(size=shapes[0]), rng.normal(size=shapes[1])), {}


def _dot_route(prim, a, b, out=None):
    # np.dot is a tensordot of a's last axis with b's second-to-last (its first when
    # 1-D); recorded with np.dot itself so the value is numpy's to the last bit.
    reject_arguments("np.dot", out=out)
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return multiply(a, b)
    return TENSORDOT(a, b, axes=((a_ndim - 1,), (max(b_ndim - 2, 0),)), via="dot")


def _inner_route(prim, a, b):
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return multiply(a, b)
    return TENSORDOT(a, b, axes=((a_ndim - 1,), (b_ndim - 1,)), via="inner")


def _matmul_route(prim, x1, x2, /):
    return prim(x1, x2)


def _multi_dot_route(prim, arrays, *, out=None):
    """np.linalg.multi_dot: the products in numpy's cheapest order (so the same numbers)."""
    reject_arguments("np.linalg.multi_dot", out=out)
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return prim(arrays[0], arrays[1])
    first, last = _ndim(arrays[0]), _ndim(arrays[-1])
    if first == 1:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if _ndim(a) != 2:
            raise np.linalg.LinAlgError(
                f"{_ndim(a)}-dimensional array given. Array must be two-dimensional")
    result = _chain_product(prim, arrays, _chain_order([_shape(a) for a in arrays]),
                            0, len(arrays) - 1)
    if first == 1 and last == 1:
        return result[0, 0]
    return np.ravel(result) if first == 1 or last == 1 else result


def _chain_order(shapes):
    """Where to split each sub-chain i..j: numpy's dynamic programme (three matrices: its
    closed form, which picks the same split)."""
    n = len(shapes)
    dims = [shapes[0][0]] + [shape[1] for shape in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                candidate = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or candidate < cost[i][j]:
                    cost[i][j], split[i][j] = candidate, k
    return split


def _chain_product(prim, arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return prim(_chain_product(prim, arrays, split, i, k),
                _chain_product(prim, arrays, split, k + 1, j))


def _matrix_power_route(prim, a, n):
    """np.linalg.matrix_power: numpy's own sequence of products (binary decomposition)."""
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    try:
        n = operator.index(n)
    except TypeError as error:
        raise TypeError("exponent must be an integer") from error
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1]), shape).copy()  # constant: gradient 0
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return prim(a, a)
    if n == 3:
        return prim(prim(a, a), a)
    power = result = None
    while n > 0:
        power = a if power is None else prim(power, power)
        n, bit = divmod(n, 2)
        if bit:
            result = power if result is None else prim(result, power)
    return result


defprimitive(
    matmul, np.matmul, display="{x:p} @ {y:p}", category=LINALG,
    numpy=available({np.matmul: None, getattr(np.linalg, "matmul", None): _matmul_route,
                     np.linalg.multi_dot: _multi_dot_route,
                     np.linalg.matrix_power: _matrix_power_route}),
    grads={"x": (_matmul_vjp_x, "ḡ @ {y:p}ᵀ"),
           "y": (_matmul_vjp_y, "{x:p}ᵀ @ ḡ")},
    sample=_matmul_sample,
    doc="matrix product x @ y (1-D operands promoted, batch axes broadcast, as numpy does); "
        "np.linalg.multi_dot and matrix_power are chains of them, in numpy's order",
)


# --------------------------------------------------------------------------- tensordot


def _normal_tensordot_axes(axes, a_ndim, b_ndim):
    """numpy's ``axes`` argument (int or pair of sequences) as two tuples of
    non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a_ndim, b_ndim):
            raise ValueError(f"tensordot: axes={n} is more than the operands have")
        return tuple(range(a_ndim - n, a_ndim)), tuple(range(n))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
    if len(a_axes) != len(b_axes):
        raise ValueError("shape-mismatch for sum")
    return (tuple(int(i) % a_ndim for i in a_axes) if a_ndim else (),
            tuple(int(i) % b_ndim for i in b_axes) if b_ndim else ())


_TENSORDOT_FORMS = {"tensordot": lambda x, y, axes: np.tensordot(x, y, axes=axes),
                    "dot": lambda x, y, axes: np.dot(x, y),
                    "inner": lambda x, y, axes: np.inner(x, y)}


def _tensordot(x, y, axes, via="tensordot"):
    """``via``: the numpy function that computes the value (np.dot and np.inner are
    tensordots over particular axes, but round differently)."""
    return _TENSORDOT_FORMS[via](x, y, axes)


def _tensordot_vjp_x(g, out, x, y, axes, via="tensordot"):
    x_axes, y_axes = axes
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    y_free = [i for i in range(y_ndim) if i not in y_axes]
    x_free = [i for i in range(x_ndim) if i not in x_axes]
    g_y_part = tuple(range(len(x_free), len(x_free) + len(y_free)))
    grad = TENSORDOT(g, y, axes=(g_y_part, tuple(y_free)))
    # grad's axes: x's free axes, then y's contracted axes in increasing order.
    contracted = sorted(y_axes)
    layout = x_free + [x_axes[y_axes.index(b)] for b in contracted]
    return np.transpose(grad, tuple(int(i) for i in np.argsort(layout)))


def _tensordot_vjp_y(g, out, x, y, axes, via="tensordot"):
    x_axes, y_axes = axes
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    x_free = [i for i in range(x_ndim) if i not in x_axes]
    y_free = [i for i in range(y_ndim) if i not in y_axes]
    grad = TENSORDOT(x, g, axes=(tuple(x_free), tuple(range(len(x_free)))))
    contracted = sorted(x_axes)
    layout = [y_axes[x_axes.index(a)] for a in contracted] + y_free
    return np.transpose(grad, tuple(int(i) for i in np.argsort(layout)))


def _tensordot_route(prim, a, b, axes=2):
    return prim(a, b, axes=_normal_tensordot_axes(axes, _ndim(a), _ndim(b)))


def _linalg_tensordot_route(prim, x1, x2, /, *, axes=2):
    return _tensordot_route(prim, x1, x2, axes=axes)


def _tensordot_sample(rng):
    count = int(rng.integers(0, 3))
    shared = _random_shape(rng, ndim=count)
    a_free = _random_shape(rng, ndim=int(rng.integers(0, 3)))
    b_free = _random_shape(rng, ndim=int(rng.integers(0, 3)))
    a_order = list(rng.permutation(len(a_free) + count))
    b_order = list(rng.permutation(len(b_free) + count))
    a_shape = [0] * len(a_order)
    b_shape = [0] * len(b_order)
    a_axes, b_axes = [], []
    for k in range(count):
        a_axes.append(int(a_order[k]))
        b_axes.append(int(b_order[k]))
        a_shape[a_order[k]] = shared[k]
        b_shape[b_order[k]] = shared[k]
    for k, n in enumerate(a_free):
        a_shape[a_order[count + k]] = n
    for k, n in enumerate(b_free):
        b_shape[b_order[count + k]] = n
    return ((rng.normal(size=tuple(a_shape)), rng.normal(size=tuple(b_shape))),
            {"axes": (tuple(a_axes), tuple(b_axes))})


def _axes_text(s: Symbols) -> str:
    a_axes, b_axes = s.params["axes"]
    return f"{list(a_axes)}, {list(b_axes)}"


def _tensordot_display(s: Symbols) -> str:
    via = s.params.get("via", "tensordot")
    if via != "tensordot":
        return f"{via}({s['x']}, {s['y']})"
    return f"tensordot({s['x']}, {s['y']}, axes={_axes_text(s)})"


def _tensordot_sample_with_forms(rng):
    form = ["tensordot", "tensordot", "dot", "inner"][int(rng.integers(0, 4))]
    if form == "tensordot":
        return _tensordot_sample(rng)
    x = rng.normal(size=_random_shape(rng, ndim=int(rng.integers(1, 4))))
    k = x.shape[-1]
    if form == "dot":
        y_shape = (k,) if rng.integers(0, 2) else \
            _random_shape(rng, ndim=int(rng.integers(0, 2))) + (k, int(rng.integers(1, 4)))
        axes = ((x.ndim - 1,), (max(len(y_shape) - 2, 0),))
    else:
        y_shape = _random_shape(rng, ndim=int(rng.integers(0, 3))) + (k,)
        axes = ((x.ndim - 1,), (len(y_shape) - 1,))
    return (x, rng.normal(size=y_shape)), {"axes": axes, "via": form}


TENSORDOT = defprimitive(
    "tensordot", _tensordot, category=LINALG, display=_tensordot_display,
    numpy=available({np.tensordot: _tensordot_route, np.dot: _dot_route, np.inner: _inner_route,
                     getattr(np.linalg, "tensordot", None): _linalg_tensordot_route}),
    grads={"x": (_tensordot_vjp_x, "ḡ ⋅ {y:p} over the free axes of {y:p}"),
           "y": (_tensordot_vjp_y, "{x:p} ⋅ ḡ over the free axes of {x:p}")},
    sample=_tensordot_sample_with_forms,
    doc="np.tensordot(x, y, axes): sum of products over paired axes; np.dot and np.inner "
        "are tensordots too",
)


# --------------------------------------------------------------------------- vdot, outer, kron


def _vdot_route(prim, a, b, /):
    return prim(a, b)


def _vdot_sample(rng):
    shape = _random_shape(rng, ndim=2)
    return (rng.normal(size=shape), rng.normal(size=shape[::-1])), {}


VDOT = defprimitive(
    "vdot", lambda x, y: np.vdot(x, y), category=LINALG, display="⟨{x}, {y}⟩",
    numpy={np.vdot: _vdot_route},
    grads={"x": (lambda g, out, x, y: g * np.reshape(y, _shape(x)), "{y}"),
           "y": (lambda g, out, x, y: g * np.reshape(x, _shape(y)), "{x}")},
    sample=_vdot_sample,
    doc="np.vdot(x, y): the dot product of the flattened arrays (real inputs)",
)


# --------------------------------------------------------------------------- vecdot


def _vecdot(x, y, axes=(-1, -1)):
    return np.vecdot(x, y, axes=[(axes[0],), (axes[1],), ()])


def _vecdot_vjp(mine, other):
    """The VJP for operand ``mine``: ḡ times the other operand along the shared axis,
    summed over the batch axes ``mine`` was broadcast along."""
    def vjp(g, out, x, y, axes=(-1, -1)):
        operands = (x, y)
        core = np.moveaxis(operands[other], axes[other], -1)
        own_shape = np.moveaxis(np.zeros(_shape(operands[mine]), dtype=bool),
                                axes[mine], -1).shape
        grad = unbroadcast(np.expand_dims(g, -1) * core, own_shape)
        return np.moveaxis(grad, -1, axes[mine])
    return vjp


def _vecdot_route(prim, x1, x2, /, *, axis=-1, keepdims=False, out=None, casting="same_kind",
                  order="K", dtype=None, subok=True, signature=None, axes=None):
    # numpy's defaults are accepted as they are; anything else is refused by name
    reject_arguments("np.vecdot", out=out, keepdims=keepdims or None, axes=axes,
                     signature=signature, casting=None if casting == "same_kind" else casting,
                     order=None if order == "K" else order, subok=None if subok else subok,
                     dtype=None if dtype is None or np.dtype(dtype) == np.float64 else dtype)
    axis = int(axis)
    for operand in (x1, x2):
        if not -_ndim(operand) <= axis < _ndim(operand):
            raise np.exceptions.AxisError(axis, _ndim(operand))
    return prim(x1, x2, axes=(axis, axis))  # numpy reads the same axis in each operand


def _vecdot_sample(rng):
    n = int(rng.integers(1, 4))
    batch = _random_shape(rng, ndim=int(rng.integers(0, 3)))
    x_shape = batch + (n,)
    y_shape = batch[int(rng.integers(0, len(batch) + 1)):] + (n,)  # broadcast batch axes
    if rng.integers(0, 2):
        x_shape, y_shape = y_shape, x_shape
    axis = -1
    x, y = rng.normal(size=x_shape), rng.normal(size=y_shape)
    if rng.integers(0, 2) and len(x_shape) > 1:
        axis = -len(x_shape) if len(x_shape) == len(y_shape) else -1
        x, y = np.moveaxis(x, -1, axis), np.moveaxis(y, -1, axis)
    return (x, y), {"axes": (axis, axis)}


VECDOT = defprimitive(
    "vecdot", _vecdot, category=LINALG, display="vecdot({x}, {y})",
    numpy=available({getattr(np, "vecdot", None): _vecdot_route,
                     getattr(np.linalg, "vecdot", None): _vecdot_route}),
    grads={"x": (_vecdot_vjp(0, 1), "ḡ·{y}"), "y": (_vecdot_vjp(1, 0), "ḡ·{x}")},
    sample=_vecdot_sample,
    doc="np.vecdot / np.linalg.vecdot(x1, x2, axis=-1): dot products along one axis, "
        "the other axes broadcast (real inputs)",
)


def _outer(x, y):
    return np.outer(x, y)


def _outer_route(prim, a, b, out=None):
    reject_arguments("np.outer", out=out)
    return prim(a, b)


def _linalg_outer_route(prim, x1, x2, /):
    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ValueError("np.linalg.outer needs 1-dimensional inputs")
    return prim(x1, x2)


OUTER = defprimitive(
    "outer", _outer, category=LINALG, display="{x:p} ⊗ {y:p}",
    numpy=available({np.outer: _outer_route,
                     getattr(np.linalg, "outer", None): _linalg_outer_route}),
    grads={"x": (lambda g, out, x, y: np.reshape(g @ np.ravel(y), _shape(x)),
                 "ḡ @ {y}"),
           "y": (lambda g, out, x, y: np.reshape(np.ravel(x) @ g, _shape(y)),
                 "{x}ᵀ @ ḡ")},
    sample=lambda rng: ((rng.normal(size=_random_shape(rng)),
                         rng.normal(size=_random_shape(rng))), {}),
    doc="np.outer(x, y): every product x_i·y_j of the flattened inputs",
)


def _kron_layout(x, y):
    """Both shapes padded to the same length and the interleaved shape of the result."""
    x_shape, y_shape = _shape(x), _shape(y)
    ndim = max(len(x_shape), len(y_shape))
    x_full = (1,) * (ndim - len(x_shape)) + x_shape
    y_full = (1,) * (ndim - len(y_shape)) + y_shape
    interleaved = tuple(n for pair in zip(x_full, y_full) for n in pair)
    return x_full, y_full, interleaved


def _kron_vjp_x(g, out, x, y):
    x_full, y_full, interleaved = _kron_layout(x, y)
    spread_y = np.reshape(y, tuple(n for m in y_full for n in (1, m)))
    grad = np.sum(np.reshape(g, interleaved) * spread_y,
                  axis=tuple(range(1, 2 * len(x_full), 2)))
    return np.reshape(grad, _shape(x))


def _kron_vjp_y(g, out, x, y):
    x_full, _, interleaved = _kron_layout(x, y)
    spread_x = np.reshape(x, tuple(n for m in x_full for n in (m, 1)))
    grad = np.sum(np.reshape(g, interleaved) * spread_x,
                  axis=tuple(range(0, 2 * len(x_full), 2)))
    return np.reshape(grad, _shape(y))


KRON = defprimitive(
    "kron", lambda x, y: np.kron(x, y), category=LINALG, display="{x:p} ⊗ {y:p}",
    numpy=(np.kron,),
    grads={"x": (_kron_vjp_x, "Σ over {y}'s blocks of ḡ·{y}"),
           "y": (_kron_vjp_y, "Σ over {x}'s blocks of ḡ·{x}")},
    sample=lambda rng: ((rng.normal(size=_random_shape(rng)),
                         rng.normal(size=_random_shape(rng))), {}),
    doc="np.kron(x, y): the Kronecker product (block matrix of x_ij·y)",
)


# --------------------------------------------------------------------------- trace, diagonals


def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``offset`` diagonal of a rows × cols matrix."""
    if offset >= 0:
        length = max(0, min(rows, cols - offset))
        start_row, start_col = 0, offset
    else:
        length = max(0, min(rows + offset, cols))
        start_row, start_col = -offset, 0
    steps = np.arange(length)
    return steps + start_row, steps + start_col


def _trace_vjp(g, out, x, offset=0, axis1=0, axis2=1):
    shape = _shape(x)
    axis1, axis2 = normalize_axes((axis1, axis2), len(shape))
    mask = np.eye(shape[axis1], shape[axis2], k=offset)
    if axis1 > axis2:
        mask = mask.T
    mask_shape = [1] * len(shape)
    mask_shape[axis1], mask_shape[axis2] = shape[axis1], shape[axis2]
    g_shape = list(shape)
    g_shape[axis1] = g_shape[axis2] = 1
    return np.reshape(g, tuple(g_shape)) * np.reshape(mask, tuple(mask_shape))


def _trace_route(prim, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    reject_arguments("np.trace", dtype=dtype, out=out)
    axis1, axis2 = normalize_axes((axis1, axis2), _ndim(a))
    return prim(a, offset=int(offset), axis1=axis1, axis2=axis2)


def _linalg_trace_route(prim, x, /, *, offset=0, dtype=None):
    return _trace_route(prim, x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def _axes_pair_sample(rng):
    ndim = int(rng.integers(2, 5))
    shape = _random_shape(rng, ndim=ndim)
    axis1, axis2 = (int(a) for a in rng.choice(ndim, size=2, replace=False))
    if rng.integers(0, 2):
        axis1 -= ndim
    offset = int(rng.integers(-2, 3))
    return (rng.normal(size=shape),), {"offset": offset, "axis1": axis1, "axis2": axis2}


def _trace_sample(rng):
    (x,), params = _axes_pair_sample(rng)
    axes = normalize_axes((params["axis1"], params["axis2"]), x.ndim)
    params["axis1"], params["axis2"] = axes
    return (x,), params


defprimitive(
    # Not "trace": tracegraph.trace is the tracing function.
    "matrix_trace", lambda x, offset=0, axis1=0, axis2=1: np.trace(x, offset, axis1, axis2),
    category=LINALG, display="tr({x})",
    numpy=available({np.trace: _trace_route,
                     getattr(np.linalg, "trace", None): _linalg_trace_route}),
    grads={"x": (_trace_vjp, "ḡ on the diagonal (I)")},
    sample=_trace_sample,
    doc="np.trace(x, offset, axis1, axis2): the sum along a diagonal",
)


def _diagonal_vjp(g, out, x, offset=0, axis1=0, axis2=1):
    shape = _shape(x)
    axis1, axis2 = normalize_axes((axis1, axis2), len(shape))
    rows, cols = _diagonal_positions(shape[axis1], shape[axis2], offset)
    rest = [n for i, n in enumerate(shape) if i not in (axis1, axis2)]
    moved = SCATTER_ADD(g, shape=tuple(rest) + (shape[axis1], shape[axis2]),
                        index=(Ellipsis, rows, cols))
    return np.moveaxis(moved, (-2, -1), (axis1, axis2))


def _diagonal_route(prim, a, offset=0, axis1=0, axis2=1):
    axis1, axis2 = normalize_axes((axis1, axis2), _ndim(a))
    return prim(a, offset=int(offset), axis1=axis1, axis2=axis2)


def _linalg_diagonal_route(prim, x, /, *, offset=0):
    return _diagonal_route(prim, x, offset=offset, axis1=-2, axis2=-1)


def _diagonal_display(s: Symbols) -> str:
    offset = s.params.get("offset", 0)
    return f"diag({s['x']})" if not offset else f"diag({s['x']}, {offset})"


DIAGONAL = defprimitive(
    "diagonal", lambda x, offset=0, axis1=0, axis2=1: np.diagonal(x, offset, axis1, axis2),
    category=LINALG, display=_diagonal_display,
    numpy=available({np.diagonal: _diagonal_route,
                     getattr(np.linalg, "diagonal", None): _linalg_diagonal_route}),
    grads={"x": (_diagonal_vjp, "ḡ placed on the diagonal")},
    sample=_trace_sample,
    doc="np.diagonal(x, offset, axis1, axis2) / np.diag of a matrix: the diagonal entries",
)


def _diag_route(prim, v, k=0):
    ndim = _ndim(v)
    if ndim == 2:
        return DIAGONAL(v, offset=int(k), axis1=0, axis2=1)
    if ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    return prim(v, k=int(k))


def _diagflat_route(prim, v, k=0):
    return prim(np.ravel(v), k=int(k))


defprimitive(
    "diag", lambda x, k=0: np.diag(x, k), category=LINALG,
    display=lambda s: f"diag_matrix({s['x']})" if not s.params.get("k")
    else f"diag_matrix({s['x']}, {s.params['k']})",
    numpy={np.diag: _diag_route, np.diagflat: _diagflat_route},
    grads={"x": (lambda g, out, x, k=0: DIAGONAL(g, offset=k, axis1=0, axis2=1),
                 "the diagonal of ḡ")},
    sample=lambda rng: ((rng.normal(size=int(rng.integers(1, 4))),),
                        {"k": int(rng.integers(-2, 3))}),
    doc="np.diag(v, k) of a vector: the matrix with v on its k-th diagonal",
)


def _triangle_route(prim, m, k=0):
    return prim(m, k=int(k))


def _triangle_sample(rng):
    shape = _random_shape(rng, ndim=int(rng.integers(1, 4)))
    return (rng.normal(size=shape),), {"k": int(rng.integers(-2, 3))}


TRIL = defprimitive(
    "tril", lambda x, k=0: np.tril(x, k), category=LINALG,
    display=lambda s: f"tril({s['x']})" if not s.params.get("k")
    else f"tril({s['x']}, {s.params['k']})",
    numpy={np.tril: _triangle_route},
    grads={"x": (lambda g, out, x, k=0: TRIL(g, k=k), "[i ≥ j − k] (tril ḡ)")},
    sample=_triangle_sample,
    doc="np.tril(x, k): the lower triangle, zeros above the k-th diagonal",
)
TRIU = defprimitive(
    "triu", lambda x, k=0: np.triu(x, k), category=LINALG,
    display=lambda s: f"triu({s['x']})" if not s.params.get("k")
    else f"triu({s['x']}, {s.params['k']})",
    numpy={np.triu: _triangle_route},
    grads={"x": (lambda g, out, x, k=0: TRIU(g, k=k), "[i ≤ j − k] (triu ḡ)")},
    sample=_triangle_sample,
    doc="np.triu(x, k): the upper triangle, zeros below the k-th diagonal",
)


# --------------------------------------------------------------------------- cross


def _cross(x, y, axisa=-1, axisb=-1, axisc=-1):
    return np.cross(x, y, axisa=axisa, axisb=axisb, axisc=axisc)


def _cross_vjp_x(g, out, x, y, axisa=-1, axisb=-1, axisc=-1):
    # <ḡ, x × y> = <x, y × ḡ>
    return CROSS(y, g, axisa=axisb, axisb=axisc, axisc=axisa)


def _cross_vjp_y(g, out, x, y, axisa=-1, axisb=-1, axisc=-1):
    # <ḡ, x × y> = <y, ḡ × x>
    return CROSS(g, x, axisa=axisc, axisb=axisa, axisc=axisb)


def _cross_route(prim, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    axisa = normalize_axes(axisa, a_ndim)[0] - a_ndim
    axisb = normalize_axes(axisb, b_ndim)[0] - b_ndim
    if _shape(a)[axisa] != 3 or _shape(b)[axisb] != 3:
        raise UnsupportedOperationError(
            "np.cross of 2-vectors", reason="numpy deprecates it and only 3-vectors are traced",
            hint="append a zero component (np.concatenate) and take the last entry")
    out_ndim = max(a_ndim, b_ndim)
    axisc = normalize_axes(axisc, out_ndim)[0] - out_ndim
    # Axes counted from the end, so the VJPs place them right even when broadcasting
    # adds leading axes.
    return prim(a, b, axisa=axisa, axisb=axisb, axisc=axisc)


def _linalg_cross_route(prim, x1, x2, /, *, axis=-1):
    return _cross_route(prim, x1, x2, axis=axis)


def _cross_sample(rng):
    batch = _random_shape(rng, ndim=int(rng.integers(0, 3)))
    a_axis = int(rng.integers(0, len(batch) + 1))
    b_batch = batch[int(rng.integers(0, len(batch) + 1)):]
    b_axis = int(rng.integers(0, len(b_batch) + 1))
    a_shape = batch[:a_axis] + (3,) + batch[a_axis:]
    b_shape = b_batch[:b_axis] + (3,) + b_batch[b_axis:]
    c_axis = int(rng.integers(0, len(batch) + 1))
    return ((rng.normal(size=a_shape), rng.normal(size=b_shape)),
            {"axisa": a_axis - len(a_shape), "axisb": b_axis - len(b_shape),
             "axisc": c_axis - (len(batch) + 1)})


CROSS = defprimitive(
    "cross", _cross, category=LINALG, display="{x:p} × {y:p}",
    numpy=available({np.cross: _cross_route,
                     getattr(np.linalg, "cross", None): _linalg_cross_route}),
    grads={"x": (_cross_vjp_x, "{y:p} × ḡ"),
           "y": (_cross_vjp_y, "ḡ × {x:p}")},
    sample=_cross_sample,
    doc="np.cross(x, y) of 3-vectors (axisa, axisb, axisc, axis as in numpy)",
)
