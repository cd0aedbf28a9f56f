"""Reductions over axes: sum, mean, max, min, and the vector norm.

All take ``axis`` (None, int or tuple) and ``keepdims`` as params; the VJPs
put the reduced axes back so the gradient has the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import broadcast_view, normalize_axis, shape_of
from ..extend import defprimitive, reject_arguments
from ..formula import Symbols

REDUCTION = "reduction"


def reduced_axes(ndim: int, axis) -> tuple[int, ...]:
    """The axes a reduction removes, as non-negative ints.

    Example:
        >>> reduced_axes(3, -1), reduced_axes(2, None)
        ((2,), (0, 1))
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int:
        return (axis % ndim,) if ndim else (0,)
    return tuple(sorted(a % ndim if ndim else 0 for a in axis))


def restore_axes(g, x_shape, axis, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input again
    (put the reduced axes back with length 1)."""
    if keepdims or not x_shape:
        return g
    if axis is None:
        shape = (1,) * len(x_shape)
    else:
        removed = reduced_axes(len(x_shape), axis)
        shape = tuple(1 if i in removed else n for i, n in enumerate(x_shape))
    return np.reshape(g, shape)


def _count(x_shape, axis) -> int:
    return int(np.prod([x_shape[a] for a in reduced_axes(len(x_shape), axis)], dtype=np.int64))


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    shape = shape_of(x)
    return broadcast_view(restore_axes(g, shape, axis, keepdims), shape)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    count = _count(shape, axis)
    return broadcast_view(restore_axes(g, shape, axis, keepdims) / count, shape)


def _extremum_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    mask = np.equal(x, restore_axes(out, shape, axis, keepdims))
    ties = np.sum(mask, axis=reduced_axes(len(shape), axis), keepdims=True)
    return restore_axes(g, shape, axis, keepdims) * mask / ties


def _extremum_kink(x, axis=None, keepdims=False):
    """Smallest gap between the extreme value and the runner-up (ties are kinks)."""
    x = np.asarray(x, dtype=float)
    axes = reduced_axes(x.ndim, axis)
    if x.ndim == 0 or all(x.shape[a] == 1 for a in axes) or x.size == 0:
        return math.inf
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
    ordered = np.sort(flat, axis=-1)
    gaps = np.minimum(ordered[..., -1] - ordered[..., -2], ordered[..., 1] - ordered[..., 0])
    return float(np.min(gaps))


def _axis_text(s: Symbols) -> str:
    axis = s.params.get("axis")
    return "" if axis is None else f", axis={axis}"


def _mean_formula(s: Symbols) -> str:
    x = s.values.get("x")
    return f"1/{_count(np.shape(x), s.params.get('axis'))}" if x is not None else "1/N"


def _sample_reduction(rng, *, positive=False):
    ndim = int(rng.integers(0, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    x = rng.uniform(0.5, 2.0, size=shape) if positive else rng.normal(size=shape)
    choice = rng.integers(0, 3)
    if ndim == 0 or choice == 0:
        axis = None
    elif choice == 1:
        axis = int(rng.integers(-ndim, ndim))
    else:
        axis = tuple(sorted(set(int(a) for a in rng.integers(0, ndim, size=2))))
    return (x,), {"axis": axis, "keepdims": bool(rng.integers(0, 2))}


def _reduction_route(name):
    def route(prim, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=None):
        reject_arguments(name, dtype=dtype, out=out, initial=initial, where=where)
        return prim(a, axis=normalize_axis(axis), keepdims=bool(keepdims))
    return route


def _mean_route(prim, a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    reject_arguments("np.mean", dtype=dtype, out=out, where=where)
    return prim(a, axis=normalize_axis(axis), keepdims=bool(keepdims))


def _np_sum(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _np_mean(x, axis=None, keepdims=False):
    return np.mean(x, axis=axis, keepdims=keepdims)


def _np_max(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


def _np_min(x, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims)


def _norm(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


def _norm_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    return restore_axes(g, shape, axis, keepdims) * x / restore_axes(out, shape, axis, keepdims)


defprimitive(
    "sum", _np_sum, display=lambda s: f"Σ({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.sum: _reduction_route("np.sum")},
    grads={"x": (_sum_vjp, "1")}, sample=_sample_reduction,
    doc="np.sum(x, axis, keepdims)",
)
defprimitive(
    "mean", _np_mean, display=lambda s: f"mean({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.mean: _mean_route},
    grads={"x": (_mean_vjp, _mean_formula)}, sample=_sample_reduction,
    doc="np.mean(x, axis, keepdims)",
)
defprimitive(
    "max", _np_max, display=lambda s: f"max({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.max: _reduction_route("np.max"), np.amax: _reduction_route("np.amax")},
    grads={"x": (_extremum_vjp, "[{x} = max]")}, sample=_sample_reduction,
    kink=_extremum_kink, doc="np.max(x, axis, keepdims) (ties share the gradient)",
)
defprimitive(
    "min", _np_min, display=lambda s: f"min({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.min: _reduction_route("np.min"), np.amin: _reduction_route("np.amin")},
    grads={"x": (_extremum_vjp, "[{x} = min]")}, sample=_sample_reduction,
    kink=_extremum_kink, doc="np.min(x, axis, keepdims) (ties share the gradient)",
)
defprimitive(
    "norm", _norm, display=lambda s: f"‖{s['x']}{_axis_text(s)}‖", category=REDUCTION,
    grads={"x": (_norm_vjp, "{x:p}/{out:p}")},
    sample=lambda rng: _sample_reduction(rng, positive=True),
    kink=lambda x, axis=None, keepdims=False: float(np.min(_norm(x, axis))) if np.size(x) else 0.0,
    doc="np.linalg.norm(x, axis=..., keepdims=...): the 2-norm (Frobenius for matrices; "
        "the other orders are in rules/norms.py)",
)
