"""Selections: np.sort, np.partition (and x.sort-free sorting), np.select.

Sorting and partitioning move elements: each output is one input, so the
VJP sends each output's gradient back to the input it came from.  The
permutation is recomputed from the input's values (a stable argsort), never
stored, so a replay with new values stays right.  **Ties**: equal values
are interchangeable in the output, and the rule gives the gradient of the
k-th output to the k-th of the equal inputs in their original order (the
stable order); sort and partition are not differentiable at ties, which
their ``kink`` declares.

np.select(condlist, choicelist, default) picks, elementwise, the first
choice whose condition holds (the conditions are plain masks, as
comparisons of traced values are).
"""

from __future__ import annotations

import numpy as np

from ..core.var import getitem, plain_value, value_of
from ..extend import defprimitive
from ..formula import Symbols
from .indexing import along_axis_index
from .shape import SCATTER_ADD, SHAPE, normalize_axes


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def _stable_order(values, axis):
    return np.argsort(values, axis=axis, kind="stable")


def _inverse_permutation(permutation, axis):
    """``inverse`` with ``take_along_axis(permutation, inverse) == arange`` (O(n), no sort)."""
    count = permutation.shape[axis]
    positions = np.arange(count).reshape([-1 if d == axis % permutation.ndim else 1
                                          for d in range(permutation.ndim)])
    inverse = np.empty_like(permutation)
    np.put_along_axis(inverse, permutation, np.broadcast_to(positions, permutation.shape),
                      axis=axis)
    return inverse


def _route_back(g, x, source, axis):
    """The VJP of ``out = take_along_axis(x, source, axis)`` (``axis=None``: of the
    flattened x) for a permutation ``source``: each input takes its output's gradient."""
    shape = _shape(x)
    if axis is None:
        flat = getitem(np.ravel(g), index=_inverse_permutation(source, 0))
        return np.reshape(flat, shape)
    return getitem(g, index=along_axis_index(_inverse_permutation(source, axis), shape, axis))


def _tie_gap(x, axis=None, **params):
    values = np.sort(np.asarray(x, dtype=float), axis=axis)
    along = -1 if axis is None else axis
    if values.shape[along] < 2:
        return np.inf
    return float(np.min(np.diff(values, axis=along)))


def _selection_sample(rng, **extra):
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 5, size=ndim))
    axis = None if rng.integers(0, 3) == 0 else int(rng.integers(0, ndim))
    return (rng.normal(size=shape),), {"axis": axis, **extra}


# --------------------------------------------------------------------------- sort


def _sort(x, axis=-1, kind=None):
    return np.sort(x, axis=axis, kind=kind)


def share_ties(g, ordered, axis):
    """``g`` (laid out like the sorted values ``ordered``) with every run of equal values
    given the run's mean: tied elements share the gradient equally, the convention of
    every rule at a tie (docs/non-differentiable.md).  Exact: each mean sums only its run.

    Example:
        >>> share_ties(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0]), 0).tolist()
        [1.0, 2.5, 2.5]
    """
    if ordered.shape[axis] < 2:
        return g
    tied = np.diff(ordered, axis=axis) == 0
    if not tied.any():
        return g
    first = np.ones_like(np.take(tied, [0], axis=axis))
    starts = np.concatenate([first, ~tied], axis=axis)
    group = np.cumsum(starts, axis=axis) - 1  # run number of every position
    index = along_axis_index(group, ordered.shape, axis)
    counts = np.zeros(ordered.shape)
    np.add.at(counts, index, 1.0)
    sums = SCATTER_ADD(g, shape=ordered.shape, index=index)
    return getitem(sums, index=index) / counts[index]


def _sort_vjp(g, out, x, axis=-1, kind=None):
    values = plain_value(x)
    ordered = np.sort(np.ravel(values) if axis is None else values, axis=0 if axis is None
                      else axis)
    shared = share_ties(g, ordered, 0 if axis is None else axis)
    return _route_back(shared, x, _stable_order(np.ravel(values) if axis is None else values,
                                                axis), axis)


def _sort_route(prim, a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise ValueError("np.sort(order=...) needs a structured array")
    if axis is not None:
        (axis,) = normalize_axes(axis, np.ndim(plain_value(a)))
    return prim(a, axis=axis, kind="stable" if stable else kind)


defprimitive(
    "sort", _sort, category=SHAPE,
    display=lambda s: f"sort({s['x']})",
    numpy={np.sort: _sort_route},
    grads={"x": (_sort_vjp, "ḡ sent back to each element's place")},
    kink=_tie_gap, sample=lambda rng: _selection_sample(rng),
    doc="np.sort(x, axis): ascending values; tied elements share their places' gradients",
)


# --------------------------------------------------------------------------- partition


def _partition(x, kth, axis=-1, kind="introselect"):
    return np.partition(x, kth, axis=axis, kind=kind)


def _partition_vjp(g, out, x, kth, axis=-1, kind="introselect"):
    values = plain_value(x)
    result = plain_value(out)
    if axis is None:
        values = np.ravel(values)
    along = -1 if axis is None else axis
    along %= values.ndim
    # The gradient laid out by rank (as np.sort would give it), shared among ties like
    # np.sort's, then sent back to the input element of each rank.
    by_rank = _stable_order(values, along)
    output_by_rank = _stable_order(result, along)
    ranked = getitem(g, index=along_axis_index(output_by_rank, result.shape, along))
    shared = share_ties(ranked, np.take_along_axis(values, by_rank, axis=along), along)
    return _route_back(shared, x, by_rank, axis)


def _partition_route(prim, a, kth, axis=-1, kind="introselect", order=None):
    if order is not None:
        raise ValueError("np.partition(order=...) needs a structured array")
    if axis is not None:
        (axis,) = normalize_axes(axis, np.ndim(plain_value(a)))
    kth = value_of(kth)
    kth = int(kth) if np.ndim(kth) == 0 else tuple(int(k) for k in kth)
    return prim(a, kth=kth, axis=axis, kind=kind)


def _partition_sample(rng):
    (x,), params = _selection_sample(rng)
    length = x.size if params["axis"] is None else x.shape[params["axis"]]
    kth = int(rng.integers(-length, length))
    return (x,), {"kth": kth, **params}


defprimitive(
    "partition", _partition, category=SHAPE,
    display=lambda s: f"partition({s['x']}, {s.params['kth']})",
    numpy={np.partition: _partition_route},
    grads={"x": (_partition_vjp, "ḡ sent back to each element's place")},
    kink=_tie_gap, sample=_partition_sample,
    doc="np.partition(x, kth, axis): the k-th smallest in place, smaller before, larger after",
)


# --------------------------------------------------------------------------- select


def _select(*choices, conditions=()):
    return np.select(list(conditions), list(choices[:-1]), choices[-1])


def _picked(conditions, position):
    """Where choice ``position`` is the one np.select takes: its condition holds and no
    earlier one does (for the default, the one past the conditions: none holds)."""
    earlier = np.zeros(np.broadcast_shapes(*(np.shape(c) for c in conditions)), dtype=bool)
    for condition in conditions[:position]:
        earlier = earlier | condition
    return ~earlier if position == len(conditions) else conditions[position] & ~earlier


def _select_vjp(g, out, *choices, conditions=(), position=0):
    return g * _picked(conditions, position)


def _select_route(prim, condlist, choicelist, default=0):
    conditions = tuple(np.asarray(value_of(c)) for c in condlist)
    choices = list(choicelist)
    if len(conditions) != len(choices):
        raise ValueError("list of cases must be same length as list of conditions")
    if any(c.dtype != bool for c in conditions):
        raise TypeError("invalid entry in condlist: should be boolean ndarray")
    return prim(*choices, default, conditions=conditions)


def _select_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    count = int(rng.integers(1, 4))
    conditions = tuple(rng.random(shape) > 0.6 for _ in range(count))
    choices = tuple(rng.normal(size=shape[int(rng.integers(0, len(shape) + 1)):])
                    for _ in range(count + 1))
    return choices, {"conditions": conditions}


def _select_display(s: Symbols) -> str:
    labels = [str(s.names[f"arg{k}"]) for k in range(len(s.values))]
    return f"select([{', '.join(labels[:-1])}], default={labels[-1]})"


defprimitive(
    "select", _select, variadic=True, category=SHAPE, display=_select_display,
    numpy={np.select: _select_route},
    grads={"choices": (_select_vjp, lambda s: f"[condition {s.position} is the first true]"
                       if s.position < len(s.values) - 1 else "[no condition true]")},
    sample=_select_sample,
    doc="np.select(condlist, choicelist, default): the first choice whose condition holds",
)
