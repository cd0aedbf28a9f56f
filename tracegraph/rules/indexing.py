"""numpy functions that are indexing in disguise, as routes to ``getitem`` (and to
``scatter_add`` for np.bincount with weights).

np.flip, fliplr, flipud (reversed slices), np.split, array_split, hsplit,
vsplit, dsplit (one slice per piece), np.take and np.take_along_axis
(integer-array indices) each record ``x[index]`` nodes, so they share
indexing's rule: its VJP scatter-adds, and it differentiates any number of
times.  The indices are worked out from shapes and plain index arrays only,
never from traced values, so a replay with new values stays right.

Example:
    >>> split_points(7, 3, equal=False)
    [0, 3, 5, 7]
"""

from __future__ import annotations

import itertools

import numpy as np

from ..core.var import plain_value, value_of
from ..extend import reject_arguments


def _ndim(a) -> int:
    return np.ndim(plain_value(a))


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def _axis(axis, ndim) -> int:
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


# --------------------------------------------------------------------------- flips


def _flip_route(prim, m, axis=None):
    ndim = _ndim(m)
    if ndim == 0:
        return m
    if axis is None:
        axes = set(range(ndim))
    else:
        axes = {_axis(a, ndim) for a in ((axis,) if isinstance(axis, (int, np.integer))
                                         else axis)}
    return prim(m, index=tuple(slice(None, None, -1) if i in axes else slice(None)
                               for i in range(ndim)))


def _fliplr_route(prim, m):
    if _ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return prim(m, index=(slice(None), slice(None, None, -1)))


def _flipud_route(prim, m):
    if _ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return prim(m, index=(slice(None, None, -1),))


# --------------------------------------------------------------------------- splits


def split_points(length: int, indices_or_sections, *, equal: bool) -> list[int]:
    """Where np.split / np.array_split cut an axis of ``length``: the pieces are
    ``[points[i]:points[i + 1]]`` (numpy's own rule, out-of-order indices included).

    Example:
        >>> split_points(6, 3, equal=True), split_points(6, [1, 4], equal=True)
        ([0, 2, 4, 6], [0, 1, 4, 6])
        >>> [p.tolist() for p in np.split(np.arange(6), [1, 4])]     # the same cuts
        [[0], [1, 2, 3], [4, 5]]
    """
    if np.ndim(indices_or_sections) > 0:
        return [0] + [int(i) for i in np.ravel(indices_or_sections)] + [length]
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ValueError("number sections must be larger than 0.")
    if equal and length % sections:
        raise ValueError("array split does not result in an equal division")
    each, extras = divmod(length, sections)
    sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
    return [int(p) for p in np.cumsum(sizes)]


def _pieces(prim, ary, indices_or_sections, axis, equal):
    axis = _axis(axis, _ndim(ary))
    points = split_points(_shape(ary)[axis], indices_or_sections, equal=equal)
    lead = (slice(None),) * axis
    return [prim(ary, index=lead + (slice(start, stop),))
            for start, stop in itertools.pairwise(points)]


def _split_route(prim, ary, indices_or_sections, axis=0):
    return _pieces(prim, ary, indices_or_sections, axis, equal=True)


def _array_split_route(prim, ary, indices_or_sections, axis=0):
    return _pieces(prim, ary, indices_or_sections, axis, equal=False)


def _hsplit_route(prim, ary, indices_or_sections):
    if _ndim(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _pieces(prim, ary, indices_or_sections, 1 if _ndim(ary) > 1 else 0, equal=True)


def _vsplit_route(prim, ary, indices_or_sections):
    if _ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _pieces(prim, ary, indices_or_sections, 0, equal=True)


def _dsplit_route(prim, ary, indices_or_sections):
    if _ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _pieces(prim, ary, indices_or_sections, 2, equal=True)


# --------------------------------------------------------------------------- take


def _checked_indices(indices, length: int, mode: str) -> np.ndarray:
    """Integer indices into an axis of ``length`` as np.take's ``mode`` treats them."""
    indices = np.asarray(value_of(indices))
    if indices.dtype.kind not in "iu":
        raise IndexError("np.take: indices must be integers")
    if mode == "wrap":
        return np.mod(indices, length)
    if mode == "clip":
        return np.clip(indices, 0, length - 1)
    if mode != "raise":
        raise ValueError(f"clipmode not understood: {mode!r}")
    if indices.size and (indices.max() >= length or indices.min() < -length):
        raise IndexError(f"index {int(indices.max()) if indices.max() >= length else int(indices.min())} "
                         f"is out of bounds for size {length}")
    return np.mod(indices, length) if length else indices


def _plain_index(indices: np.ndarray):
    return int(indices) if indices.ndim == 0 else indices


def _take_route(prim, a, indices, axis=None, out=None, mode="raise"):
    reject_arguments("np.take", out=out)
    shape = _shape(a)
    if axis is None:
        size = int(np.prod(shape, dtype=np.int64))
        flat = _checked_indices(indices, size, mode)
        if len(shape) <= 1:
            return prim(np.reshape(a, (-1,)) if not shape else a, index=_plain_index(flat))
        return prim(a, index=tuple(_plain_index(i) for i in np.unravel_index(flat, shape)))
    axis = _axis(axis, len(shape))
    picked = _checked_indices(indices, shape[axis], mode)
    return prim(a, index=(slice(None),) * axis + (_plain_index(picked),))


def along_axis_index(indices: np.ndarray, shape: tuple[int, ...], axis: int) -> tuple:
    """The integer-array index with ``x[index] == np.take_along_axis(x, indices, axis)``.

    Example:
        >>> x = np.array([[3.0, 1.0], [0.0, 2.0]])
        >>> order = np.argsort(x, axis=1)
        >>> x[along_axis_index(order, x.shape, 1)].tolist()
        [[1.0, 3.0], [0.0, 2.0]]
    """
    ndim = len(shape)
    index = []
    for d in range(ndim):
        if d == axis:
            index.append(indices)
        else:
            index.append(np.arange(shape[d]).reshape(tuple(-1 if i == d else 1
                                                           for i in range(ndim))))
    return tuple(index)


def _take_along_axis_route(prim, arr, indices, axis=-1):
    indices = np.asarray(value_of(indices))
    shape = _shape(arr)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        flat = np.mod(indices, int(np.prod(shape, dtype=np.int64)))
        return prim(arr, index=np.unravel_index(flat, shape) if len(shape) > 1 else flat)
    if indices.ndim != len(shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    return prim(arr, index=along_axis_index(indices, shape, _axis(axis, len(shape))))


# --------------------------------------------------------------------------- scatter


def _bincount_route(prim, x, /, weights=None, minlength=0):
    bins = np.asarray(value_of(x))
    if weights is None:
        return np.bincount(bins, minlength=minlength)
    length = max(int(minlength), int(bins.max()) + 1 if bins.size else 0)
    if bins.size and bins.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    return prim(np.ravel(weights), shape=(length,), index=np.ravel(bins))


GETITEM_ROUTES = {
    np.flip: _flip_route, np.fliplr: _fliplr_route, np.flipud: _flipud_route,
    np.split: _split_route, np.array_split: _array_split_route, np.hsplit: _hsplit_route,
    np.vsplit: _vsplit_route, np.dsplit: _dsplit_route, np.take: _take_route,
    np.take_along_axis: _take_along_axis_route,
}
"""numpy functions recorded as ``x[index]``."""

SCATTER_ROUTES = {np.bincount: _bincount_route}
"""numpy functions recorded as ``scatter_add``: np.bincount(bins, weights=traced)."""
