"""numpy functions routed to primitives, with numpy's own signatures.

``np.sum(x, axis=1, keepdims=True)`` on a traced value arrives here through
``__array_function__``; each handler checks the arguments it cannot trace
(``out=``, ``where=`` ...) and records the matching primitive.  Functions
whose result has zero derivative wherever it exists (``np.argmax``,
``np.sign``, comparisons, ``np.zeros_like``) run on plain values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import (
    FUNCTION_RULES,
    REGISTRY,
    ZERO_GRADIENT_FUNCTIONS,
    ZERO_GRADIENT_UFUNCS,
    apply,
    normalize_axis,
    value_of,
)
from ..errors import UnsupportedOperationError


def _reject(func_name: str, **given: Any) -> None:
    """Raise for keyword arguments that cannot be traced (given with a non-default value)."""
    bad = [key for key, value in given.items() if value is not None]
    if bad:
        raise UnsupportedOperationError(
            f"{func_name}(..., {', '.join(f'{k}=' for k in bad)})",
            reason="these arguments are not traced",
            hint="drop them (use the return value instead of out=, np.where instead of where=)",
        )


def _reduction(prim_name: str, func_name: str):
    def handler(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _reject(func_name, dtype=dtype, out=out, initial=initial, where=where)
        return apply(REGISTRY[prim_name], a, axis=normalize_axis(axis), keepdims=bool(keepdims))
    return handler


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _reject("np.mean", dtype=dtype, out=out, where=where)
    return apply(REGISTRY["mean"], a, axis=normalize_axis(axis), keepdims=bool(keepdims))


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise UnsupportedOperationError(f"np.reshape(order={order!r})", reason="only C order")
    shape = shape if shape is not None else newshape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply(REGISTRY["reshape"], a, shape=tuple(int(s) for s in shape))


def _ravel(a, order="C"):
    return _reshape(a, (-1,), order)


def _squeeze(a, axis=None):
    return _reshape(a, np.squeeze(np.empty(np.shape(value_of(a)), np.uint8), axis=axis).shape)


def _expand_dims(a, axis):
    return _reshape(a, np.expand_dims(np.empty(np.shape(value_of(a)), np.uint8), axis).shape)


def _transpose(a, axes=None):
    return apply(REGISTRY["transpose"], a, axes=None if axes is None else tuple(axes))


def _swapaxes(a, axis1, axis2):
    axes = list(range(np.ndim(value_of(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(a, axes)


def _moveaxis(a, source, destination):
    ndim = np.ndim(value_of(a))
    order = np.moveaxis(np.arange(ndim), source, destination)
    return _transpose(a, [int(i) for i in order])


def _concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    _reject("np.concatenate", out=out, dtype=dtype, casting=casting)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [_ravel(a) for a in arrays], 0
    return apply(REGISTRY["concatenate"], *arrays, axis=int(axis))


def _stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _reject("np.stack", out=out, dtype=dtype, casting=casting)
    return apply(REGISTRY["stack"], *list(arrays), axis=int(axis))


def _hstack(tup, *, dtype=None, casting=None):
    arrays = list(tup)
    axis = 0 if all(np.ndim(value_of(a)) == 1 for a in arrays) else 1
    return _concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


def _vstack(tup, *, dtype=None, casting=None):
    arrays = [a if np.ndim(value_of(a)) >= 2 else _reshape(a, (1, -1)) for a in tup]
    return _concatenate(arrays, axis=0, dtype=dtype, casting=casting)


def _where(condition, x=None, y=None):
    if x is None and y is None:
        return np.where(value_of(condition))
    return apply(REGISTRY["where"], value_of(condition), x, y)


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    _reject("np.clip", out=out, **{k: v for k, v in kwargs.items()})
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return apply(REGISTRY["clip"], a, lo, hi)


def _dot(a, b, out=None):
    _reject("np.dot", out=out)
    a_ndim, b_ndim = np.ndim(value_of(a)), np.ndim(value_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return apply(REGISTRY["multiply"], a, b)
    if a_ndim <= 2 and b_ndim <= 2:
        return apply(REGISTRY["matmul"], a, b)
    raise UnsupportedOperationError(
        "np.dot on arrays of more than 2 dimensions",
        hint="use np.matmul / @ (which broadcasts batch dimensions) instead",
    )


def _outer(a, b, out=None):
    _reject("np.outer", out=out)
    return apply(REGISTRY["multiply"], _reshape(a, (-1, 1)), _reshape(b, (1, -1)))


def _inner(a, b):
    if np.ndim(value_of(a)) == 1 and np.ndim(value_of(b)) == 1:
        return apply(REGISTRY["matmul"], a, b)
    raise UnsupportedOperationError("np.inner on arrays of more than 1 dimension",
                                    hint="use a @ b.T or np.matmul")


def _norm(x, ord=None, axis=None, keepdims=False):
    if ord not in (None, 2, "fro") or (ord == 2 and (axis is None and np.ndim(value_of(x)) > 1)):
        raise UnsupportedOperationError(
            f"np.linalg.norm(ord={ord!r})", reason="only the 2-norm / Frobenius norm is traced")
    return apply(REGISTRY["norm"], x, axis=normalize_axis(axis), keepdims=bool(keepdims))


def _broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply(REGISTRY["broadcast_to"], array, shape=shape)


def _copy(a, order="K", subok=False):
    return a


FUNCTION_RULES.update({
    np.sum: _reduction("sum", "np.sum"),
    np.mean: _mean,
    np.max: _reduction("max", "np.max"),
    np.amax: _reduction("max", "np.amax"),
    np.min: _reduction("min", "np.min"),
    np.amin: _reduction("min", "np.amin"),
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.moveaxis: _moveaxis,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.hstack: _hstack,
    np.vstack: _vstack,
    np.where: _where,
    np.clip: _clip,
    np.dot: _dot,
    np.outer: _outer,
    np.inner: _inner,
    np.linalg.norm: _norm,
    np.broadcast_to: _broadcast_to,
    np.copy: _copy,
})

ZERO_GRADIENT_UFUNCS.update({
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.sign, np.floor, np.ceil, np.rint, np.trunc, np.isnan, np.isinf, np.isfinite,
    np.signbit,
})
ZERO_GRADIENT_FUNCTIONS.update({
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.isclose, np.allclose,
    np.array_equal, np.round, np.around, np.nonzero, np.count_nonzero, np.any, np.all,
    np.result_type, np.iscomplexobj, np.isrealobj, np.triu_indices_from, np.tril_indices_from,
})
