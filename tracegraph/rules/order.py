"""Order statistics: median, quantile/percentile (every numpy method) and ptp.

Each is a *selection*: the result is a weighted sum of one or two sorted
elements, so the gradient flows to exactly those elements with those
weights (½ and ½ for the median of an even count).  The weights come from
numpy itself: ``np.quantile(arange(n), q, method)`` is the virtual position
of the result among the sorted elements.  Tied elements share their weights
equally (the tracegraph convention at every tie, docs/non-differentiable.md),
and the kink is the gap between two neighbours whose weights differ.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive
from ..formula import Symbols
from .arguments import axis_param, flag, given, reject_out
from .reductions import (
    extremum_kink,
    extremum_share,
    reduced_axes,
    restore_axes,
    sample_reduction,
)

ORDER = "statistics"


def _rows(x, axis):
    """x with the reduced axes moved last and flattened: (rows..., n)."""
    x = np.asarray(x, dtype=float)
    axes = reduced_axes(x.ndim, axis) if x.ndim else ()
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x
    lead = moved.shape[: x.ndim - len(axes)]
    return moved.reshape(lead + (-1,)), axes, moved.shape


def _positional_weights(n, q, method):
    """Weights on the sorted positions 0..n−1 for each quantile in ``q``: shape q.shape + (n,)."""
    q = np.asarray(q, dtype=float)
    where = np.quantile(np.arange(n, dtype=float), q, method=method)
    where = np.atleast_1d(where).ravel()
    low = np.clip(np.floor(where).astype(int), 0, n - 1)
    frac = where - low
    weights = np.zeros((where.size, n))
    rows = np.arange(where.size)
    weights[rows, low] += 1.0 - frac
    high = np.minimum(low + 1, n - 1)
    weights[rows, high] += frac
    return weights.reshape(q.shape + (n,))


def _sorted_rows(x, axis):
    rows, _, _ = _rows(x, axis)
    return np.sort(rows, axis=-1)


def _tie_average(weights, ordered):
    """Tied sorted values share the mean of their weights (weights: (..Q, rows.., n))."""
    n = ordered.shape[-1]
    if n < 2:
        return weights
    new_group = np.concatenate(
        [np.ones(ordered.shape[:-1] + (1,), bool), ordered[..., 1:] != ordered[..., :-1]], -1)
    if new_group.all():
        return weights
    groups = np.cumsum(new_group, axis=-1) - 1
    flat_groups = (groups + n * np.arange(groups[..., 0].size).reshape(groups.shape[:-1] + (1,)))
    flat_groups = np.broadcast_to(flat_groups, weights.shape).reshape(-1, flat_groups.size)
    flat = weights.reshape(flat_groups.shape)
    out = np.empty_like(flat)
    for k in range(flat.shape[0]):
        sums = np.bincount(flat_groups[k], weights=flat[k])
        counts = np.bincount(flat_groups[k])
        out[k] = (sums / np.maximum(counts, 1))[flat_groups[k]]
    return out.reshape(weights.shape)


def selection_weights(x, q, axis, method):
    """W with ``quantile(x, q) = Σ W·x`` over the reduced axes: shape q.shape + x.shape.

    Example:
        >>> selection_weights(np.array([3.0, 1.0, 2.0, 4.0]), 0.5, None, "linear").tolist()
        [0.5, 0.0, 0.5, 0.0]
    """
    x = np.asarray(plain_value(x), dtype=float)
    rows, axes, moved_shape = _rows(x, axis)
    n = rows.shape[-1]
    q = np.asarray(q, dtype=float)
    per_position = _positional_weights(n, q, method)  # q.shape + (n,)
    weights = _selected_without_ties(rows, per_position.reshape(-1, n))
    if weights is None:
        weights = _selected_with_ties(rows, per_position)
    weights = weights.reshape(q.shape + moved_shape)
    if axes:
        start = len(q.shape)
        weights = np.moveaxis(weights, tuple(range(-len(axes), 0)),
                              tuple(start + a for a in axes))
    return weights.reshape(q.shape + x.shape)


_PARTIAL_SORT_FROM = 5000  # below this many elements per slice a full argsort is faster


def _selected_without_ties(rows, per_position):
    """The weights of the selected elements when none of them has a twin (None if one
    does: ties need the full order to share their weights).  Long slices use a partial
    sort, O(n), and look for twins of the selected values; short ones sort."""
    n = rows.shape[-1]
    flat = rows.reshape(-1, n)
    needed = np.unique(np.nonzero(per_position)[1])
    if n == 1:
        picked = np.zeros((flat.shape[0], 1), dtype=int)
    elif n >= _PARTIAL_SORT_FROM:
        picked = np.argpartition(flat, needed, axis=-1)[:, needed]
        values = np.take_along_axis(flat, picked, axis=-1)
        for k in range(needed.size):
            if np.any(np.count_nonzero(flat == values[:, k:k + 1], axis=-1) > 1):
                return None
    else:
        order = np.argsort(flat, axis=-1)
        # Only the selected positions and their neighbours can tie with them.
        columns = np.unique(np.clip(np.concatenate([needed - 1, needed, needed + 1]), 0, n - 1))
        nearby = np.take_along_axis(flat, order[:, columns], axis=-1)
        adjacent = np.diff(columns) == 1
        if np.any((nearby[:, 1:] == nearby[:, :-1])[:, adjacent]):
            return None
        picked = order[:, needed]
    weights = np.zeros((per_position.shape[0],) + flat.shape)
    rows_index = np.arange(flat.shape[0])
    for k, position in enumerate(needed):
        weights[:, rows_index, picked[:, k]] += per_position[:, position][:, np.newaxis]
    return weights.reshape((per_position.shape[0],) + rows.shape)


def _selected_with_ties(rows, per_position):
    q_shape = per_position.shape[:-1]
    n = rows.shape[-1]
    order = np.argsort(rows, axis=-1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=-1)
    lead = rows.shape[:-1]
    sorted_weights = np.broadcast_to(
        per_position.reshape(q_shape + (1,) * len(lead) + (n,)), q_shape + lead + (n,))
    sorted_weights = _tie_average(np.array(sorted_weights), ordered)
    weights = np.zeros(q_shape + lead + (n,))
    np.put_along_axis(weights, np.broadcast_to(order, weights.shape), sorted_weights, axis=-1)
    return weights


def _selection_vjp(g, x, q, axis, keepdims, method):
    shape = np.shape(plain_value(x))
    weights = selection_weights(x, q, axis, method)
    q_shape = np.shape(q)
    if not q_shape:
        return restore_axes(g, shape, axis, keepdims) * weights
    axes = reduced_axes(len(shape), axis)
    restored = tuple(1 if k in axes else n for k, n in enumerate(shape))
    upstream = np.reshape(g, q_shape + restored)
    return np.sum(upstream * weights, axis=tuple(range(len(q_shape))))


def selection_kink(x, q, axis, method):
    """The smallest gap between sorted neighbours whose weights differ (a tie there is a kink).

    The two middle elements of an even count share the median equally, so their
    own gap does not count:

    Example:
        >>> selection_kink(np.array([1.0, 2.0, 2.5, 9.0]), 0.5, None, "linear")
        1.0
    """
    x = np.asarray(plain_value(x), dtype=float)
    if x.size < 2:
        return math.inf
    ordered = _sorted_rows(x, axis)
    n = ordered.shape[-1]
    if n < 2:
        return math.inf
    per_position = _positional_weights(n, q, method).reshape(-1, n)
    differs = np.any(per_position[:, 1:] != per_position[:, :-1], axis=0)
    gaps = (ordered[..., 1:] - ordered[..., :-1])[..., differs]
    return float(np.min(gaps)) if gaps.size else math.inf


# --------------------------------------------------------------------------- median


def _median(x, axis=None, keepdims=False):
    return np.median(x, axis=axis, keepdims=keepdims)


def _median_route(prim, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    reject_out("np.median", out)
    return prim(a, axis=axis_param(axis), keepdims=flag(keepdims))


def _median_vjp(g, out, x, axis=None, keepdims=False):
    return _selection_vjp(g, x, 0.5, axis, keepdims, "linear")


def _axis_text(s: Symbols) -> str:
    return "" if s.params.get("axis") is None else f", axis={s.params['axis']}"


defprimitive(
    "median", _median, display=lambda s: f"median({s['x']}{_axis_text(s)})", category=ORDER,
    numpy={np.median: _median_route},
    grads={"x": (_median_vjp, "1 at the middle element (½ each for the two middle ones)")},
    sample=sample_reduction,
    kink=lambda x, axis=None, keepdims=False: selection_kink(x, 0.5, axis, "linear"),
    doc="np.median(x, axis, keepdims): a selection, so the gradient goes to the middle "
        "element(s); ties share",
)


# --------------------------------------------------------------------------- quantile


def _quantile(x, q, axis=None, keepdims=False, method="linear"):
    return np.quantile(x, q, axis=axis, keepdims=keepdims, method=method)


def _quantile_vjp(g, out, x, q, axis=None, keepdims=False, method="linear"):
    return _selection_vjp(g, x, q, axis, keepdims, method)


def _plain_q(function, q, scale):
    if type(q).__name__ == "Var":
        raise UnsupportedOperationError(
            f"{function} with a traced q", reason="the gradient with respect to q is not traced",
            hint="pass q as a plain number or array")
    q = np.asarray(q, dtype=float) / scale
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"{function}: quantiles must be in the range [0, {scale:g}]")
    return float(q) if q.ndim == 0 else q


def _quantile_route(function, scale):
    def route(prim, a, q, axis=None, out=None, overwrite_input=False, method="linear",
              keepdims=False, *, weights=None, interpolation=None):
        reject_out(function, out)
        if given(weights, None):
            raise UnsupportedOperationError(
                f"{function}(..., weights=)", reason="weighted quantiles are not traced",
                hint="drop weights=, or compute the weighted quantile from a sort")
        if given(interpolation, None):
            method = interpolation
        return prim(a, q=_plain_q(function, q, scale), axis=axis_param(axis),
                    keepdims=flag(keepdims), method=str(method))
    return route


def _quantile_display(s: Symbols) -> str:
    q = s.params.get("q")
    q_text = f"{q:g}" if isinstance(q, float) else "q"
    method = s.params.get("method", "linear")
    extra = "" if method == "linear" else f", method={method}"
    return f"quantile({s['x']}, {q_text}{_axis_text(s)}{extra})"


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint", "hazen", "weibull",
            "median_unbiased", "normal_unbiased", "inverted_cdf", "averaged_inverted_cdf",
            "closest_observation", "interpolated_inverted_cdf")


def _sample_quantile(rng):
    (x,), params = sample_reduction(rng)
    q = float(rng.uniform(0.0, 1.0)) if rng.integers(0, 2) else rng.uniform(0.0, 1.0, size=2)
    params.update(q=q, method=str(rng.choice(_METHODS)))
    return (x,), params


defprimitive(
    "quantile", _quantile, display=_quantile_display, category=ORDER,
    numpy={np.quantile: _quantile_route("np.quantile", 1.0),
           np.percentile: _quantile_route("np.percentile", 100.0)},
    grads={"x": (_quantile_vjp, "interpolation weights of the selected elements")},
    sample=_sample_quantile,
    kink=lambda x, q, axis=None, keepdims=False, method="linear":
    selection_kink(x, q, axis, method),
    doc="np.quantile / np.percentile (every method): a selection, so the gradient goes to "
        "the one or two elements the result interpolates",
)


# --------------------------------------------------------------------------- ptp


def _ptp(x, axis=None, keepdims=False):
    return np.ptp(x, axis=axis, keepdims=keepdims)


def _ptp_vjp(g, out, x, axis=None, keepdims=False):
    largest = np.max(x, axis=axis, keepdims=keepdims)
    smallest = np.min(x, axis=axis, keepdims=keepdims)
    shares = np.subtract(extremum_share(largest, x, axis, keepdims),
                         extremum_share(smallest, x, axis, keepdims), dtype=float)
    return restore_axes(g, np.shape(x), axis, keepdims) * shares


def _ptp_kink(x, axis=None, keepdims=False):
    return min(_largest_gap(x, axis), _smallest_gap(x, axis))


_largest_gap = extremum_kink(largest=True)
_smallest_gap = extremum_kink(largest=False)


def _ptp_route(prim, a, axis=None, out=None, keepdims=False):
    reject_out("np.ptp", out)
    return prim(a, axis=axis_param(axis), keepdims=flag(keepdims))


defprimitive(
    "ptp", _ptp, display=lambda s: f"ptp({s['x']}{_axis_text(s)})", category=ORDER,
    numpy={np.ptp: _ptp_route},
    grads={"x": (_ptp_vjp, "[{x} = max] − [{x} = min] (ties share)")},
    sample=sample_reduction, kink=_ptp_kink,
    doc="np.ptp(x, axis, keepdims): max − min; tied extremes share the gradient",
)
