"""References for the statistics and order-statistics rules, written with autograd.numpy.

Products and cumulative products are written as explicit products of the other
elements (no division), so they are exact where elements are 0; quantiles sort
with autograd's own ``sort`` and interpolate between the two neighbouring order
statistics that numpy's virtual index points at.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np


def _plain(x):
    return np.asarray(getattr(x, "_value", x))


def _axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axis))


def _moved_rows(x, axis):
    """x with the reduced axes last, flattened into one: (..., n)."""
    ndim = np.ndim(_plain(x))
    axes = _axes(ndim, axis)
    moved = anp.moveaxis(x, axes, tuple(range(ndim - len(axes), ndim))) if axes else x
    lead = np.shape(_plain(moved))[: ndim - len(axes)]
    return anp.reshape(moved, lead + (-1,)), axes, lead


def _keep(result, x, axis, keepdims):
    if not keepdims:
        return result
    shape = np.shape(_plain(x))
    axes = _axes(len(shape), axis)
    return anp.reshape(result, tuple(1 if k in axes else n for k, n in enumerate(shape)))


def _var(x, axis=None, keepdims=False, ddof=0, where=None):
    mask = np.ones(np.shape(_plain(x))) if where is None else np.broadcast_to(where, np.shape(_plain(x))) * 1.0
    count = anp.sum(mask, axis=axis, keepdims=True)
    mean = anp.sum(x * mask, axis=axis, keepdims=True) / count
    total = anp.sum(mask * (x - mean) ** 2, axis=axis, keepdims=keepdims)
    return total / (anp.sum(mask, axis=axis, keepdims=keepdims) - ddof)


def _std(x, axis=None, keepdims=False, ddof=0, where=None):
    return anp.sqrt(_var(x, axis, keepdims, ddof, where))


def _others_product(rows):
    """For each position of the last axis, the product of every other element."""
    n = np.shape(_plain(rows))[-1]
    columns = [rows[..., k] for k in range(n)]
    result = []
    for k in range(n):
        product = 1.0
        for j in range(n):
            if j != k:
                product = product * columns[j]
        result.append(product)
    return result, columns


def _prod(x, axis=None, keepdims=False):
    rows, _, lead = _moved_rows(x, axis)
    others, columns = _others_product(rows)
    product = others[0] * columns[0] if columns else anp.ones(lead)
    return _keep(anp.reshape(product, lead), x, axis, keepdims)


def _cumulative(x, axis, combine):
    moved = anp.moveaxis(x, axis, -1)
    n = np.shape(_plain(moved))[-1]
    running, parts = None, []
    for k in range(n):
        running = moved[..., k] if running is None else combine(running, moved[..., k])
        parts.append(running)
    return anp.moveaxis(anp.stack(parts, axis=-1), -1, axis)


def _average(x, w, axis=None, keepdims=False):
    w = w + 0.0 * x  # broadcast
    return anp.sum(x * w, axis=axis, keepdims=keepdims) / anp.sum(w, axis=axis, keepdims=keepdims)


def _nansum(x, axis=None, keepdims=False):
    present = ~np.isnan(_plain(x))
    if present.ndim == 0:  # autograd's where wants array cotangents
        return x if present else 0.0 * anp.where(present, x, 0.0)
    return anp.sum(anp.where(present, x, 0.0), axis=axis, keepdims=keepdims)


def _nanmean(x, axis=None, keepdims=False):
    present = ~np.isnan(_plain(x))
    return _nansum(x, axis, keepdims) / np.sum(present, axis=axis, keepdims=keepdims)


def _diff(x, n=1, axis=-1):
    for _ in range(n):
        count = np.shape(_plain(x))[axis]
        head = (slice(None),) * (axis % np.ndim(_plain(x)))
        x = x[head + (slice(1, count),)] - x[head + (slice(0, count - 1),)]
    return x


def _quantile(x, q, axis=None, keepdims=False, method="linear"):
    rows, axes, lead = _moved_rows(x, axis)
    n = np.shape(_plain(rows))[-1]
    flat = anp.reshape(rows, (-1, n))  # autograd sorts 1-D arrays only
    ordered = anp.reshape(anp.stack([anp.sort(flat[k]) for k in range(np.shape(_plain(flat))[0])]),
                          np.shape(_plain(rows)))
    q_flat = np.atleast_1d(np.asarray(q, dtype=float)).ravel()
    picks = []
    for level in q_flat:
        # Where numpy's method puts the result among the sorted positions 0..n−1.
        position = float(np.quantile(np.arange(n, dtype=float), level, method=method))
        low = min(int(np.floor(position)), n - 1)
        frac = position - low
        high = min(low + 1, n - 1)
        picks.append((1.0 - frac) * ordered[..., low] + frac * ordered[..., high])
    result = anp.stack(picks, axis=0)
    shape = np.shape(_plain(x))
    kept = tuple(1 if k in axes else m for k, m in enumerate(shape)) if keepdims else lead
    return anp.reshape(result, np.shape(q) + kept)


def _ptp(x, axis=None, keepdims=False):
    return anp.max(x, axis=axis, keepdims=keepdims) - anp.min(x, axis=axis, keepdims=keepdims)


REFERENCES = {
    "var": _var,
    "std": _std,
    "prod": _prod,
    "cumsum": lambda x, axis=0: _cumulative(x, axis, lambda a, b: a + b),
    "cumprod": lambda x, axis=0: _cumulative(x, axis, lambda a, b: a * b),
    "average": _average,
    "nansum": _nansum,
    "nanmean": _nanmean,
    "diff": _diff,
    "median": lambda x, axis=None, keepdims=False: _quantile(x, 0.5, axis, keepdims),
    "quantile": _quantile,
    "ptp": _ptp,
}
