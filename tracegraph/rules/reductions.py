"""Reductions over axes: sum, mean, max, min, and the vector norm.

All take ``axis`` (None, int or tuple) and ``keepdims`` as params; the VJPs
put the reduced axes back so the gradient has the input's shape.  numpy's
``where=`` (a plain mask) and ``initial=`` are params too, and ``dtype=`` a
float dtype is a cast node before the reduction.  Ties in max/min share the
gradient equally, the tracegraph convention at every tie
(docs/non-differentiable.md); the norm's derivative at 0 is 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import broadcast_view, shape_of
from ..extend import defprimitive
from ..formula import Symbols
from .arguments import axis_param, cast_to_dtype, flag, given, reject_out, where_mask

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
    (put the reduced axes back with length 1).

    Example:
        >>> restore_axes(np.ones(3), (2, 3), 0, False).shape
        (1, 3)
    """
    if keepdims or not x_shape:
        return g
    if axis is None:
        shape = (1,) * len(x_shape)
    elif type(axis) is int:
        kept = axis % len(x_shape)
        shape = x_shape[:kept] + (1,) + x_shape[kept + 1:]
    else:
        removed = reduced_axes(len(x_shape), axis)
        shape = tuple(1 if i in removed else n for i, n in enumerate(x_shape))
    kind = type(g)
    if kind is np.ndarray:
        return g.reshape(shape)
    if kind is float or kind is np.float64:
        return np.full(shape, g)  # np.reshape would wrap the number in an array first
    return np.reshape(g, shape)  # a traced value (second derivatives)


def reduced_count(x_shape, axis) -> int:
    """How many elements each result of a reduction over ``axis`` combines.

    Example:
        >>> reduced_count((2, 3, 4), (0, -1))
        8
    """
    return int(np.prod([x_shape[a] for a in reduced_axes(len(x_shape), axis)], dtype=np.int64))


def _mask_count(mask, x_shape, axis):
    """Per-slice count of the elements a where= mask keeps (kept dims, at least 1)."""
    full = np.broadcast_to(mask, x_shape)
    count = np.sum(full, axis=reduced_axes(len(x_shape), axis), keepdims=True)
    return np.maximum(count, 1)


# --------------------------------------------------------------------------- sum and mean


def _np_sum(x, axis=None, keepdims=False, where=None, initial=None):
    if type(x) is np.ndarray and where is None and initial is None:
        if _is_pair_axis(x, axis):
            # numpy reduces a last axis of length 2 one row at a time, ~7x slower than
            # adding the two columns; a0 + a1 is the only rounding either way, and numpy's
            # reduction starts from +0.0, which turns a sum of two -0.0 into +0.0 (same bits)
            pair = x[..., 0] + x[..., 1]
            pair += 0.0
            return pair[..., None] if keepdims else pair
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # what np.sum calls, directly
    options = {} if where is None else {"where": where}
    if initial is not None:
        options["initial"] = initial
    return np.sum(x, axis=axis, keepdims=keepdims, **options)


def _is_pair_axis(x: np.ndarray, axis) -> bool:
    """``axis`` is only the last axis of a float64/float32 array of 2 or more dimensions,
    and that axis has length 2 (the x, y of 2-D points)."""
    ndim = x.ndim
    return ndim >= 2 and type(axis) is int and (axis == ndim - 1 or axis == -1) \
        and x.shape[-1] == 2 and (x.dtype == np.float64 or x.dtype == np.float32)


def _np_mean(x, axis=None, keepdims=False, where=None):
    options = {} if where is None else {"where": where}
    return np.mean(x, axis=axis, keepdims=keepdims, **options)


def _sum_vjp(g, out, x, axis=None, keepdims=False, where=None, initial=None):
    shape = shape_of(x)
    spread = broadcast_view(restore_axes(g, shape, axis, keepdims), shape)
    return spread if where is None else spread * where


def _mean_vjp(g, out, x, axis=None, keepdims=False, where=None):
    shape = np.shape(x)
    if where is None:
        count = reduced_count(shape, axis)
        return broadcast_view(restore_axes(g, shape, axis, keepdims) / count, shape)
    return restore_axes(g, shape, axis, keepdims) * (where / _mask_count(where, shape, axis))


def _axis_text(s: Symbols) -> str:
    parts = []
    if s.params.get("axis") is not None:
        parts.append(f"axis={s.params['axis']}")
    if s.params.get("where") is not None:
        parts.append("where")
    if s.params.get("initial") is not None:
        parts.append(f"initial={s.params['initial']:g}")
    return "".join(f", {p}" for p in parts)


def _sum_formula(s: Symbols) -> str:
    return "1" if s.params.get("where") is None else "[where]"


def _mean_formula(s: Symbols) -> str:
    if s.params.get("where") is not None:
        return "[where]/(count of where)"
    x = s.values.get("x")
    return f"1/{reduced_count(np.shape(x), s.params.get('axis'))}" if x is not None else "1/N"


def _sample_shape_axis(rng, *, min_ndim=0):
    ndim = int(rng.integers(min_ndim, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    choice = rng.integers(0, 3)
    if ndim == 0 or choice == 0:
        axis = None
    elif choice == 1:
        axis = int(rng.integers(-ndim, ndim))
    else:
        axis = tuple(sorted(set(int(a) for a in rng.integers(0, ndim, size=2))))
    return shape, axis


def sample_reduction(rng, *, positive=False):
    """Test inputs for a reduction: a random shape, axis (None, int, negative, tuple), keepdims.

    Example:
        >>> (x,), params = sample_reduction(np.random.default_rng(0))
        >>> sorted(params)
        ['axis', 'keepdims']
    """
    shape, axis = _sample_shape_axis(rng)
    x = rng.uniform(0.5, 2.0, size=shape) if positive else rng.normal(size=shape)
    return (x,), {"axis": axis, "keepdims": bool(rng.integers(0, 2))}


def _sample_masked(rng, *, initial):
    """A reduction sample, half the time with a where= mask (and initial=, if ``initial``)."""
    (x,), params = sample_reduction(rng)
    if rng.integers(0, 2):
        mask = rng.random(np.shape(x)) > 0.3
        if mask.size:
            mask.flat[0] = True
        params["where"] = mask if np.ndim(x) else np.bool_(mask)
        if initial:
            params["initial"] = float(rng.normal())
    elif initial and rng.integers(0, 2):
        params["initial"] = float(rng.normal())
    return (x,), params


def sample_mask(rng, shape, axis, keep=1):
    """A random where= mask keeping at least ``keep`` elements of every reduced slice.

    Example:
        >>> mask = sample_mask(np.random.default_rng(0), (2, 3), 1, keep=2)
        >>> bool(np.all(mask.sum(axis=1) >= 2))
        True
    """
    mask = rng.random(shape) > 0.4
    axes = reduced_axes(len(shape), axis)
    moved = np.moveaxis(mask, axes, tuple(range(-len(axes), 0)))  # a view: writes reach mask
    slice_shape = moved.shape[len(shape) - len(axes):]
    for k in range(min(keep, int(np.prod(slice_shape, dtype=np.int64)))):
        moved[(...,) + np.unravel_index(k, slice_shape)] = True
    return mask


def _sample_mean(rng):
    (x,), params = sample_reduction(rng)
    if rng.integers(0, 2) and np.ndim(x):
        params["where"] = sample_mask(rng, np.shape(x), params["axis"])
    return (x,), params


def _sum_route(name):
    def route(prim, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
        if dtype is None and out is None and initial is None and where is True:
            # numpy's defaults (the common call): no argument to check
            return prim(a, axis=axis_param(axis), keepdims=flag(keepdims))
        reject_out(name, out)
        params = {"axis": axis_param(axis), "keepdims": flag(keepdims)}
        mask = where_mask(name, where)
        if mask is not None:
            params["where"] = mask
        if given(initial, None):
            params["initial"] = float(initial)
        return prim(cast_to_dtype(name, a, dtype), **params)
    return route


def _add_reduce_route(prim, array, axis=0, dtype=None, out=None, keepdims=False,
                      initial=None, where=True):
    return _sum_route("np.add.reduce")(prim, array, axis, dtype, out, keepdims, initial, where)


def _mean_route(prim, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    if dtype is None and out is None and where is True:
        return prim(a, axis=axis_param(axis), keepdims=flag(keepdims))
    reject_out("np.mean", out)
    params = {"axis": axis_param(axis), "keepdims": flag(keepdims)}
    mask = where_mask("np.mean", where)
    if mask is not None:
        params["where"] = mask
    return prim(cast_to_dtype("np.mean", a, dtype), **params)


defprimitive(
    "sum", _np_sum, display=lambda s: f"Σ({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.sum: _sum_route("np.sum"), (np.add, "reduce"): _add_reduce_route},
    grads={"x": (_sum_vjp, _sum_formula)},
    sample=lambda rng: _sample_masked(rng, initial=True),
    doc="np.sum(x, axis, keepdims, where=, initial=, dtype=)",
)
defprimitive(
    "mean", _np_mean, display=lambda s: f"mean({s['x']}{_axis_text(s)})", category=REDUCTION,
    numpy={np.mean: _mean_route},
    grads={"x": (_mean_vjp, _mean_formula)}, sample=_sample_mean,
    doc="np.mean(x, axis, keepdims, where=, dtype=)",
)


# --------------------------------------------------------------------------- max and min


def _extremum(func):
    def impl(x, axis=None, keepdims=False, where=None, initial=None):
        options = {} if where is None else {"where": where}
        if initial is not None:
            options["initial"] = initial
        return func(x, axis=axis, keepdims=keepdims, **options)
    impl.__name__ = func.__name__
    return impl


def extremum_vjp(g, out, x, axis=None, keepdims=False, where=None, initial=None):
    """VJP of max/min: the elements equal to the result share the gradient equally
    (the initial value, when it ties, takes its share too).

    Example:
        >>> extremum_vjp(1.0, 3.0, np.array([1.0, 3.0, 3.0])).tolist()
        [0.0, 0.5, 0.5]
    """
    share = extremum_share(out, x, axis, keepdims, where, initial)
    return restore_axes(g, np.shape(x), axis, keepdims) * share


def extremum_share(out, x, axis=None, keepdims=False, where=None, initial=None):
    """Each element's share of a max/min result ``out``: 1/(number of ties) where it
    equals the result, else 0 (a bool mask when there are no ties at all).

    Example:
        >>> extremum_share(3.0, np.array([1.0, 3.0, 3.0])).tolist()
        [0.0, 0.5, 0.5]
    """
    shape = np.shape(x)
    restored = restore_axes(out, shape, axis, keepdims)
    mask = np.equal(x, restored)
    if where is None and initial is None and _one_match_each(mask, out):
        return mask
    if where is not None:
        mask = mask & where
    ties = np.sum(mask, axis=reduced_axes(len(shape), axis), keepdims=True)
    if initial is not None:
        ties = ties + np.equal(restored, initial)
    return mask / np.maximum(ties, 1)


def _one_match_each(mask, out):
    """True when every reduced group has exactly one element equal to its result.

    A result that is not NaN is attained by at least one element of its group, so as
    many matches in all as there are results means one each: a single count instead
    of a sum along the axis.
    """
    kind = type(out)
    if not (kind is np.ndarray or kind is float or kind is np.float64):
        return False  # a traced result (second derivatives): the general path
    return (type(mask) is np.ndarray and np.count_nonzero(mask) == np.size(out)
            and not np.isnan(out).any())


def extremum_kink(largest):
    """The kink of max (``largest``) or min: the gap between the extreme candidate and the
    runner-up, since a tie is where the function is not differentiable.

    Example:
        >>> extremum_kink(True)(np.array([1.0, 3.0, 2.5]))
        0.5
    """
    def kink(x, axis=None, keepdims=False, where=None, initial=None):
        x = np.asarray(x, dtype=float)
        if x.size == 0:
            return math.inf
        axes = reduced_axes(x.ndim, axis) if x.ndim else ()
        fill = -np.inf if largest else np.inf
        values = np.where(where, x, fill) if where is not None else x
        values = np.broadcast_to(values, x.shape)
        moved = np.moveaxis(values, axes, tuple(range(-len(axes), 0))) if axes else values
        flat = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
        if initial is not None:
            flat = np.concatenate([flat, np.full(flat.shape[:-1] + (1,), float(initial))], -1)
        if flat.shape[-1] < 2:
            return math.inf
        ordered = np.sort(flat, axis=-1)
        with np.errstate(invalid="ignore"):
            gaps = (ordered[..., -1] - ordered[..., -2]) if largest \
                else (ordered[..., 1] - ordered[..., 0])
        gaps = np.where(np.isnan(gaps), np.inf, gaps)
        return float(np.min(gaps))
    return kink


def _extremum_route(name):
    def route(prim, a, axis=None, out=None, keepdims=False, initial=None, where=True):
        reject_out(name, out)
        params = {"axis": axis_param(axis), "keepdims": flag(keepdims)}
        mask = where_mask(name, where)
        if mask is not None:
            params["where"] = mask
        if given(initial, None):
            params["initial"] = float(initial)
        return prim(a, **params)
    return route


def _ufunc_reduce_route(name):
    def route(prim, array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
        return _extremum_route(name)(prim, cast_to_dtype(name, array, dtype), axis, out,
                                     keepdims, initial, where)
    return route


defprimitive(
    "max", _extremum(np.max), display=lambda s: f"max({s['x']}{_axis_text(s)})",
    category=REDUCTION,
    numpy={np.max: _extremum_route("np.max"), np.amax: _extremum_route("np.amax"),
           (np.maximum, "reduce"): _ufunc_reduce_route("np.maximum.reduce")},
    grads={"x": (extremum_vjp, "[{x} = max]/(number of ties)")},
    sample=lambda rng: _sample_masked(rng, initial=True), kink=extremum_kink(True),
    doc="np.max(x, axis, keepdims, where=, initial=): ties share the gradient equally",
)
defprimitive(
    "min", _extremum(np.min), display=lambda s: f"min({s['x']}{_axis_text(s)})",
    category=REDUCTION,
    numpy={np.min: _extremum_route("np.min"), np.amin: _extremum_route("np.amin"),
           (np.minimum, "reduce"): _ufunc_reduce_route("np.minimum.reduce")},
    grads={"x": (extremum_vjp, "[{x} = min]/(number of ties)")},
    sample=lambda rng: _sample_masked(rng, initial=True), kink=extremum_kink(False),
    doc="np.min(x, axis, keepdims, where=, initial=): ties share the gradient equally",
)


# --------------------------------------------------------------------------- norm


def _norm(x, axis=None, keepdims=False):
    if axis is None:
        # numpy's own: the whole-array norm is sqrt(x·x) by BLAS dot, whose order of
        # additions differs from np.sum's (an ulp apart in a third of vectors)
        return np.linalg.norm(x, keepdims=keepdims)
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


def _norm_vjp(g, out, x, axis=None, keepdims=False):
    # x/‖x‖, and 0 at x = 0 (the centre of the unit ball of subgradients; where ‖x‖ = 0 the
    # slice of x is all zeros, so dividing by 1 there gives exactly that).
    shape = np.shape(x)
    norm = restore_axes(out, shape, axis, keepdims)
    return restore_axes(g, shape, axis, keepdims) * x / np.where(np.equal(norm, 0), 1.0, norm)


defprimitive(
    "norm", _norm, display=lambda s: f"‖{s['x']}{_axis_text(s)}‖", category=REDUCTION,
    grads={"x": (_norm_vjp, "{x:p}/{out:p}")},
    sample=lambda rng: sample_reduction(rng, positive=True),
    kink=lambda x, axis=None, keepdims=False: float(np.min(_norm(x, axis))) if np.size(x) else 0.0,
    doc="np.linalg.norm(x, axis=..., keepdims=...): the 2-norm (Frobenius for matrices; "
        "the other orders are in rules/norms.py); derivative 0 at x = 0",
)
