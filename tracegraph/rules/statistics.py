"""Statistics: var, std, prod, cumsum, cumprod, average, nansum, nanmean, diff.

The order statistics (median, quantile/percentile, ptp) are in :mod:`.order`.
Every rule takes numpy's own arguments (``ddof``, ``correction``, ``keepdims``,
``where=``, ``dtype=`` a float dtype) and its VJP puts the reduced axes back so
the gradient has the input's shape.  ``prod`` and ``cumprod`` are exact with
zeros in the input (the product of the *other* elements, never out/x), to every order.
"""

from __future__ import annotations

import numpy as np

from ..core import plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive
from ..formula import Symbols
from .arguments import axis_param, cast_to_dtype, flag, given, reject_out, where_mask
from .shape import available
from .reductions import (
    reduced_axes,
    reduced_count,
    restore_axes,
    sample_mask,
    sample_reduction,
)

STATISTICS = "statistics"


def _shape(x) -> tuple[int, ...]:
    return np.shape(plain_value(x))


def _axis_suffix(s: Symbols) -> str:
    parts = [f"axis={s.params['axis']}"] if s.params.get("axis") is not None else []
    if s.params.get("ddof"):
        parts.append(f"ddof={s.params['ddof']:g}")
    if s.params.get("where") is not None:
        parts.append("where")
    return "".join(f", {p}" for p in parts)


def _count_text(s: Symbols) -> str:
    """N − ddof as a number when the input's shape is known (N when ddof = 0)."""
    x = s.values.get("x")
    ddof = s.params.get("ddof", 0)
    if x is None or s.params.get("where") is not None:
        return "N − ddof" if ddof else "N"
    count = reduced_count(np.shape(x), s.params.get("axis")) - ddof
    return f"{count:g}"


# --------------------------------------------------------------------------- var and std


def _var(x, axis=None, keepdims=False, ddof=0, where=None):
    options = {} if where is None else {"where": where}
    return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims, **options)


def _std(x, axis=None, keepdims=False, ddof=0, where=None):
    options = {} if where is None else {"where": where}
    return np.std(x, axis=axis, ddof=ddof, keepdims=keepdims, **options)


def _centred(x, axis, where):
    """x − mean(x) over the reduced axes (traced-safe), and the per-slice element count."""
    shape = _shape(x)
    axes = reduced_axes(len(shape), axis)
    if where is None:
        return x - np.mean(x, axis=axes, keepdims=True), reduced_count(shape, axis), 1.0
    mask = np.broadcast_to(where, shape)
    count = np.sum(mask, axis=axes, keepdims=True)
    return (x - np.mean(x, axis=axes, keepdims=True, where=mask)), count, mask


def _var_vjp(g, out, x, axis=None, keepdims=False, ddof=0, where=None):
    centred, count, mask = _centred(x, axis, where)
    return restore_axes(g, _shape(x), axis, keepdims) * (2.0 * mask / (count - ddof)) * centred


def _std_vjp(g, out, x, axis=None, keepdims=False, ddof=0, where=None):
    # (x − x̄)/((N − ddof)·std), and 0 where std = 0 (a constant slice: like the norm at 0).
    centred, count, mask = _centred(x, axis, where)
    std = restore_axes(out, _shape(x), axis, keepdims)
    safe = np.where(np.equal(std, 0), 1.0, std)
    return restore_axes(g, _shape(x), axis, keepdims) * (mask / (count - ddof)) * centred / safe


def _var_formula(s: Symbols) -> str:
    return f"2({s['x']} − mean)/{_count_text(s)}"


def _std_formula(s: Symbols) -> str:
    count = _count_text(s)
    return f"({s['x']} − mean)/({count}·{s['out']:p})" if count != "1" \
        else f"({s['x']} − mean)/{s['out']:p}"


def _std_kink(x, axis=None, keepdims=False, ddof=0, where=None):
    """The smallest standard deviation of a slice: std is not differentiable where it is 0."""
    return float(np.min(_std(x, axis=axis, keepdims=True, where=where))) if np.size(x) else 0.0


def _spread_route(name):
    def route(prim, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
              mean=None, correction=None):
        reject_out(name, out)
        if given(mean, None):
            raise UnsupportedOperationError(
                f"{name}(..., mean=)", reason="a precomputed mean is not traced",
                hint=f"drop mean= ({name} computes the mean itself)")
        if given(correction, None):
            if ddof != 0:
                raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
            ddof = correction
        params = {"axis": axis_param(axis), "keepdims": flag(keepdims), "ddof": float(ddof)}
        mask = where_mask(name, where)
        if mask is not None:
            params["where"] = mask
        return prim(cast_to_dtype(name, a, dtype), **params)
    return route


def _sample_spread(rng):
    (x,), params = sample_reduction(rng, positive=False)
    count = reduced_count(np.shape(x), params["axis"])
    params["ddof"] = float(rng.integers(0, 2)) if count > 1 else 0.0
    if count > 2 and rng.integers(0, 3) == 0:
        params["where"] = sample_mask(rng, np.shape(x), params["axis"], keep=2)
    return (x,), params


defprimitive(
    "var", _var, display=lambda s: f"var({s['x']}{_axis_suffix(s)})", category=STATISTICS,
    numpy={np.var: _spread_route("np.var")},
    grads={"x": (_var_vjp, _var_formula)}, sample=_sample_spread,
    doc="np.var(x, axis, ddof, keepdims, where=): Σ(x − mean)²/(N − ddof)",
)
defprimitive(
    "std", _std, display=lambda s: f"std({s['x']}{_axis_suffix(s)})", category=STATISTICS,
    numpy={np.std: _spread_route("np.std")},
    grads={"x": (_std_vjp, _std_formula)}, sample=_sample_spread, kink=_std_kink,
    doc="np.std(x, axis, ddof, keepdims, where=): √var (derivative 0 where std = 0)",
)


# --------------------------------------------------------------------------- prod


def _prod(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


def _shifted(v, step):
    """``v`` moved ``step`` places towards the start of its last axis, zeros after it."""
    tail = np.zeros(_shape(v)[:-1] + (min(step, _shape(v)[-1]),))
    return np.concatenate([v[..., step:], tail], axis=-1)


def exclusive_cumprod(v):
    """∏_{j < i} v_j along the last axis, without division (exact with zeros, and
    differentiable again: only products, slices and concatenations).

    Example:
        >>> exclusive_cumprod(np.array([2.0, 0.0, 3.0])).tolist()
        [1.0, 2.0, 0.0]
    """
    head = np.ones(_shape(v)[:-1] + (1,))
    return np.concatenate([head, np.cumprod(v, axis=-1)[..., :-1]], axis=-1)


def products_of_others(v):
    """∏_{j ≠ i} v_j along the last axis: exclusive products from both sides (no
    division, so exact with zeros and differentiable again).

    Example:
        >>> products_of_others(np.array([0.0, 2.0, 3.0])).tolist()
        [6.0, 0.0, 0.0]
    """
    flipped = v[..., ::-1]
    return exclusive_cumprod(v) * exclusive_cumprod(flipped)[..., ::-1]


def _products_of_others(x, axes):
    """∏ of the other elements of each slice over ``axes``, for every element of x."""
    shape = _shape(x)
    kept = [a for a in range(len(shape)) if a not in axes]
    order = kept + list(axes)
    lengths = tuple(shape[a] for a in kept)
    flat = np.reshape(np.transpose(x, order), lengths + (-1,))
    others = np.reshape(products_of_others(flat),
                        lengths + tuple(shape[a] for a in axes))
    return np.transpose(others, tuple(int(a) for a in np.argsort(order)))


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    """g times the product of the other elements of each slice, exact with zeros."""
    shape = _shape(x)
    upstream = restore_axes(g, shape, axis, keepdims)
    if np.all(plain_value(out)):  # no product is 0, so no element is (a cheap test)
        return upstream * restore_axes(out, shape, axis, keepdims) / x
    if not shape:  # prod of a number is the number
        return upstream * np.ones_like(plain_value(out))
    # The products of the others computed without division: exact where elements are 0,
    # and a formula of x in a neighbourhood, so its own derivative (second order) is right.
    return upstream * _products_of_others(x, reduced_axes(len(shape), axis))


def _prod_route(name):
    def route(prim, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
        reject_out(name, out)
        a = cast_to_dtype(name, a, dtype)
        mask = where_mask(name, where)
        if mask is not None:  # masked-out elements count as 1
            a = np.where(mask, a, 1.0)
        result = prim(a, axis=axis_param(axis), keepdims=flag(keepdims))
        return result * float(initial) if given(initial, None) else result
    return route


def _ufunc_reduce_prod(prim, array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                       where=True):
    return _prod_route("np.multiply.reduce")(prim, array, axis, dtype, out, keepdims, initial,
                                             where)


def _sample_prod(rng):
    (x,), params = sample_reduction(rng)
    x = np.where(np.abs(x) < 0.3, 0.5, x)  # keep products of order 1
    if np.size(x) and rng.integers(0, 2):
        x = np.array(x, dtype=float)
        x.flat[int(rng.integers(0, x.size))] = 0.0
        if x.size > 2 and rng.integers(0, 2):
            x.flat[int(rng.integers(0, x.size))] = 0.0
    return (x,), params


defprimitive(
    "prod", _prod, display=lambda s: f"∏({s['x']}{_axis_suffix(s)})", category=STATISTICS,
    numpy={np.prod: _prod_route("np.prod"), (np.multiply, "reduce"): _ufunc_reduce_prod},
    grads={"x": (_prod_vjp, "∏ of the other elements")}, sample=_sample_prod,
    doc="np.prod(x, axis, keepdims, where=, initial=): exact where elements are 0",
)


# --------------------------------------------------------------------------- cumsum, cumprod


def _reverse(v, axis):
    """``v`` reversed along ``axis`` (a view for arrays, a getitem node for traced values)."""
    return v[(slice(None),) * axis + (slice(None, None, -1),)]


def reverse_cumsum(v, axis):
    """Σ_{k ≥ i} v_k along ``axis``: the VJP of cumsum (traced-safe).

    Example:
        >>> reverse_cumsum(np.array([1.0, 2.0, 3.0]), 0).tolist()
        [6.0, 5.0, 3.0]
    """
    return _reverse(np.cumsum(_reverse(v, axis), axis=axis), axis)


def _cumsum(x, axis=0):
    return np.cumsum(x, axis=axis)


def _cumprod(x, axis=0):
    return np.cumprod(x, axis=axis)


def _cumprod_vjp(g, out, x, axis=0):
    if not np.any(np.equal(plain_value(x), 0)):
        return reverse_cumsum(g * out, axis) / x
    # With zeros: ∂out_k/∂x_i = ∏_{j<i} x_j · ∏_{i<j≤k} x_j, so the gradient of x_i is
    # L_i·T_i with T_i = ḡ_i + x_{i+1}·T_{i+1}; that recurrence is solved by doubling
    # (log₂ n steps of products and shifts, no division), exact with zeros and a formula
    # of x in a neighbourhood, so its own derivative (second order) is right.
    moved_x = np.moveaxis(x, axis, -1)
    total = np.moveaxis(g * np.ones(_shape(x)), axis, -1)
    factor = _shifted(moved_x, 1)
    step, length = 1, _shape(moved_x)[-1]
    while step < length:
        total = total + factor * _shifted(total, step)
        factor = factor * _shifted(factor, step)
        step *= 2
    return np.moveaxis(exclusive_cumprod(moved_x) * total, -1, axis)


def _cumulative_route(name):
    def route(prim, a, axis=None, dtype=None, out=None):
        reject_out(name, out)
        a = cast_to_dtype(name, a, dtype)
        if axis is None:  # numpy flattens first
            return prim(np.reshape(a, (-1,)), axis=0)
        ndim = max(len(_shape(a)), 1)
        if not -ndim <= int(axis) < ndim:
            raise np.exceptions.AxisError(int(axis), ndim)
        return prim(a, axis=int(axis) % ndim)
    return route


def _accumulate_route(name):
    def route(prim, array, axis=0, dtype=None, out=None):
        return _cumulative_route(name)(prim, array, axis, dtype, out)
    return route


def _array_api_cumulative_route(name, start):
    """np.cumulative_sum / np.cumulative_prod: the running result, with ``start`` (0 or 1)
    in front when include_initial is set."""
    def route(prim, x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        reject_out(name, out)
        ndim = len(_shape(x))
        if axis is None:
            if ndim > 1:
                raise ValueError(f"{name}: axis must be given for arrays of more than one "
                                 "dimension")
            axis = 0
        running = _cumulative_route(name)(prim, x, axis, dtype)
        if not flag(include_initial):
            return running
        axis = int(axis) % max(ndim, 1)
        shape = list(_shape(running))
        shape[axis] = 1
        return np.concatenate([np.full(shape, start, dtype=float), running], axis=axis)
    return route


def _sample_cumulative(with_zeros):
    def sample(rng):
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
        x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        if with_zeros and rng.integers(0, 2):
            for _ in range(int(rng.integers(1, 3))):
                x.flat[int(rng.integers(0, x.size))] = 0.0
        return (x,), {"axis": int(rng.integers(0, ndim))}
    return sample


defprimitive(
    "cumsum", _cumsum, display=lambda s: f"cumsum({s['x']}, axis={s.params['axis']})",
    category=STATISTICS,
    numpy=available({np.cumsum: _cumulative_route("np.cumsum"),
                     (np.add, "accumulate"): _accumulate_route("np.add.accumulate"),
                     getattr(np, "cumulative_sum", None):
                         _array_api_cumulative_route("np.cumulative_sum", 0.0)}),
    grads={"x": (lambda g, out, x, axis=0: reverse_cumsum(g, axis), "Σₖ≥ᵢ ḡₖ")},
    sample=_sample_cumulative(False),
    doc="np.cumsum(x, axis): running sums (axis=None flattens first)",
)
defprimitive(
    "cumprod", _cumprod, display=lambda s: f"cumprod({s['x']}, axis={s.params['axis']})",
    category=STATISTICS,
    numpy=available({np.cumprod: _cumulative_route("np.cumprod"),
                     (np.multiply, "accumulate"): _accumulate_route("np.multiply.accumulate"),
                     getattr(np, "cumulative_prod", None):
                         _array_api_cumulative_route("np.cumulative_prod", 1.0)}),
    grads={"x": (_cumprod_vjp, "Σₖ≥ᵢ ḡₖ·∏ⱼ≤ₖ,ⱼ≠ᵢ xⱼ")},
    sample=_sample_cumulative(True),
    doc="np.cumprod(x, axis): running products, exact where elements are 0",
)


# --------------------------------------------------------------------------- average


def _average(x, w, axis=None, keepdims=False):
    w = np.broadcast_to(w, np.shape(x))
    return np.sum(x * w, axis=axis, keepdims=keepdims) / np.sum(w, axis=axis, keepdims=keepdims)


def _weight_total(x, w, axis):
    """Σ w over the reduced axes, kept as length-1 axes (w broadcast to x's shape first)."""
    shape = _shape(x)
    return np.sum(np.broadcast_to(w, shape), axis=reduced_axes(len(shape), axis), keepdims=True)


def _average_vjp_x(g, out, x, w, axis=None, keepdims=False):
    return restore_axes(g, _shape(x), axis, keepdims) * w / _weight_total(x, w, axis)


def _average_vjp_w(g, out, x, w, axis=None, keepdims=False):
    shape = _shape(x)
    mean = restore_axes(out, shape, axis, keepdims)
    return restore_axes(g, shape, axis, keepdims) * (x - mean) / _weight_total(x, w, axis)


def _broadcastable_weights(a, weights, axis):
    """numpy's 1-D (or reduced-axes) weights reshaped to broadcast against ``a``."""
    a_shape, w_shape = _shape(a), _shape(weights)
    if w_shape == a_shape:
        return weights
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    axes = reduced_axes(len(a_shape), axis)
    if w_shape != tuple(a_shape[k] for k in axes):
        raise ValueError("Shape of weights must be consistent with shape of a along "
                         "specified axis.")
    target = tuple(n if k in axes else 1 for k, n in enumerate(a_shape))
    return np.reshape(weights, target)


def _average_route(prim, a, axis=None, weights=None, returned=False, *, keepdims=False):
    axis, keepdims = axis_param(axis), flag(keepdims)
    if weights is None:
        result = np.mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return result
        count = np.full(np.shape(plain_value(result)), float(reduced_count(_shape(a), axis)))
        return result, (count[()] if count.ndim == 0 else count)
    weights = _broadcastable_weights(a, weights, axis)
    result = prim(a, weights, axis=axis, keepdims=keepdims)
    if not returned:
        return result
    total = np.sum(np.broadcast_to(weights, _shape(a)), axis=axis, keepdims=keepdims)
    return result, total


def _sample_average(rng):
    (x,), params = sample_reduction(rng)
    shape = np.shape(x)
    w = rng.uniform(0.5, 2.0, size=shape)
    if shape and params["axis"] is not None and rng.integers(0, 2):
        axes = reduced_axes(len(shape), params["axis"])
        w = rng.uniform(0.5, 2.0, size=tuple(n if k in axes else 1 for k, n in enumerate(shape)))
    return (x, w), params


defprimitive(
    "average", _average, display=lambda s: f"average({s['x']}, weights={s['w']}"
    f"{_axis_suffix(s)})", category=STATISTICS,
    numpy={np.average: _average_route},
    grads={"x": (_average_vjp_x, "{w}/Σ{w}"),
           "w": (_average_vjp_w, "({x} − {out})/Σ{w}")},
    sample=_sample_average,
    doc="np.average(x, axis, weights, returned, keepdims): Σ w·x / Σ w (weights may be traced)",
)


# --------------------------------------------------------------------------- nansum, nanmean


def _nansum(x, axis=None, keepdims=False):
    return np.nansum(x, axis=axis, keepdims=keepdims)


def _nanmean(x, axis=None, keepdims=False):
    return np.nanmean(x, axis=axis, keepdims=keepdims)


def _present(x):
    return ~np.isnan(plain_value(x))


def _nansum_vjp(g, out, x, axis=None, keepdims=False):
    return restore_axes(g, _shape(x), axis, keepdims) * _present(x)


def _nanmean_vjp(g, out, x, axis=None, keepdims=False):
    present = _present(x)
    count = np.sum(present, axis=reduced_axes(len(_shape(x)), axis), keepdims=True)
    return restore_axes(g, _shape(x), axis, keepdims) * (present / np.maximum(count, 1))


def _nan_route(name, masked_fill):
    def route(prim, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
        reject_out(name, out)
        a = cast_to_dtype(name, a, dtype)
        mask = where_mask(name, where)
        if mask is not None:  # masked-out elements are ignored, like NaNs
            a = np.where(mask, a, masked_fill)
        result = prim(a, axis=axis_param(axis), keepdims=flag(keepdims))
        return result + float(initial) if given(initial, None) else result
    return route


def _nanmean_route(prim, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    return _nan_route("np.nanmean", np.nan)(prim, a, axis, dtype, out, keepdims, None, where)


def _sample_with_nans(rng):
    (x,), params = sample_reduction(rng)
    x = np.array(x, dtype=float)
    if x.size > 1:
        x[rng.random(x.shape) < 0.25] = np.nan
        axes = reduced_axes(x.ndim, params["axis"])
        moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
        first = (...,) + (0,) * len(axes)
        moved[first] = np.where(np.isnan(moved[first]), 1.0, moved[first])  # no empty slice
    return (x,), params


defprimitive(
    "nansum", _nansum, display=lambda s: f"nansum({s['x']}{_axis_suffix(s)})",
    category=STATISTICS, numpy={np.nansum: _nan_route("np.nansum", 0.0)},
    grads={"x": (_nansum_vjp, "[{x} is not NaN]")}, sample=_sample_with_nans,
    doc="np.nansum(x, axis, keepdims, where=, initial=): NaNs count as 0 (and get gradient 0)",
)
defprimitive(
    "nanmean", _nanmean, display=lambda s: f"nanmean({s['x']}{_axis_suffix(s)})",
    category=STATISTICS, numpy={np.nanmean: _nanmean_route},
    grads={"x": (_nanmean_vjp, "[{x} is not NaN]/(count of non-NaN)")},
    sample=_sample_with_nans,
    doc="np.nanmean(x, axis, keepdims, where=): the mean of the non-NaN elements",
)


# --------------------------------------------------------------------------- diff


def _diff(x, n=1, axis=-1):
    return np.diff(x, n=n, axis=axis)


def _undiff(g, axis):
    """The transpose of one difference along ``axis``: ḡ[i−1] − ḡ[i] (zero outside)."""
    shape = list(np.shape(plain_value(g)))
    shape[axis] = 1
    edge = np.zeros(shape)
    padded = np.concatenate([edge, g, edge], axis=axis)
    head = (slice(None),) * axis
    return padded[head + (slice(None, -1),)] - padded[head + (slice(1, None),)]


def _diff_vjp(g, out, x, n=1, axis=-1):
    axis %= len(_shape(x))
    if n >= _shape(x)[axis]:  # numpy's result is empty: nothing depends on x
        return np.zeros(_shape(x))
    for _ in range(n):
        g = _undiff(g, axis)
    return g


def _edge(value, a, axis):
    """numpy's prepend=/append=: a scalar becomes a slice of length 1 along ``axis``."""
    if np.ndim(plain_value(value)) == 0:
        shape = list(_shape(a))
        shape[axis] = 1
        return np.broadcast_to(value, tuple(shape))
    return value


def _diff_route(prim, a, n=1, axis=-1, prepend=None, append=None):
    ndim = len(_shape(a))
    if ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = int(axis) % ndim
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    parts = [a]
    if given(prepend, None):
        parts.insert(0, _edge(prepend, a, axis))
    if given(append, None):
        parts.append(_edge(append, a, axis))
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    return a if n == 0 else prim(a, n=int(n), axis=axis)


def _diff_formula(s: Symbols) -> str:
    n = s.params.get("n", 1)
    return "ḡ[i−1] − ḡ[i]" if n == 1 else f"ḡ[i−1] − ḡ[i], applied {n} times"


def _sample_diff(rng):
    ndim = int(rng.integers(1, 4))
    shape = [int(v) for v in rng.integers(1, 4, size=ndim)]
    axis = int(rng.integers(-ndim, ndim))
    n = int(rng.integers(1, 3))
    shape[axis] = n + int(rng.integers(0, 3))
    return (rng.normal(size=tuple(shape)),), {"n": n, "axis": axis % ndim}


defprimitive(
    "diff", _diff, category=STATISTICS,
    display=lambda s: f"diff({s['x']}" + (f", n={s.params['n']}" if s.params.get("n", 1) != 1
                                          else "") + f", axis={s.params['axis']})",
    numpy={np.diff: _diff_route},
    grads={"x": (_diff_vjp, _diff_formula)}, sample=_sample_diff,
    doc="np.diff(x, n, axis, prepend=, append=): differences of neighbours",
)
