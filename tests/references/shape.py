"""References for the shape and selection rules.

Rearrangements (tile, repeat, roll, rot90, pad, sort, partition) are written
as indexing of the flattened input with positions that numpy's own function
computes on an array of element numbers; autograd differentiates the
indexing, independently of tracegraph's rules.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval


def _numbering(x):
    return np.arange(np.size(x)).reshape(np.shape(x))


def _rearranged(function):
    """A reference for a function that only moves elements: index the flat input."""
    def reference(x, *args, **params):
        return anp.ravel(x)[function(_numbering(x), *args, **params)]
    return reference


def _pad(x, pad_width, mode="constant", constant_values=0.0):
    if mode != "constant":
        return anp.ravel(x)[np.pad(_numbering(x), pad_width, mode=mode)]
    border = np.pad(np.zeros(np.shape(x)), pad_width, constant_values=constant_values)
    return anp.pad(x, pad_width, mode="constant") + border


def _along(x, source, axis):
    """x[source] along axis, with the other axes' positions spelled out."""
    ndim = np.ndim(x)
    index = tuple(source if d == axis else
                  np.arange(np.shape(x)[d]).reshape([-1 if i == d else 1 for i in range(ndim)])
                  for d in range(ndim))
    return x[index]


def _sort(x, axis=-1, kind=None):
    values = getval(x)
    if axis is None:
        return anp.ravel(x)[np.argsort(np.ravel(values), kind="stable")]
    return _along(x, np.argsort(values, axis=axis, kind="stable"), axis)


def _sources(values, arranged):
    """Where each entry of ``arranged`` (a rearrangement of the 1-D ``values``) came from."""
    order = np.argsort(values, kind="stable")
    return order[np.searchsorted(values[order], arranged)]


def _partition(x, kth, axis=-1, kind="introselect"):
    # np.argpartition may arrange the elements differently from np.partition: find
    # where each element of numpy's own result came from.
    values = getval(x)
    if axis is None:
        flat = np.ravel(values)
        return anp.ravel(x)[_sources(flat, np.partition(flat, kth))]
    moved = np.moveaxis(values, axis, -1)
    arranged = np.partition(moved, kth, axis=-1)
    sources = np.empty(moved.shape, dtype=np.intp)
    for index in np.ndindex(moved.shape[:-1]):
        sources[index] = _sources(moved[index], arranged[index])
    return _along(x, np.moveaxis(sources, -1, axis), axis)


def _select(*choices, conditions=()):
    result = choices[-1]
    for condition, choice in reversed(list(zip(conditions, choices[:-1]))):
        mask = np.asarray(condition, dtype=float)  # autograd's where does not unbroadcast
        result = mask * choice + (1.0 - mask) * result
    return result


REFERENCES = {
    "tile": _rearranged(lambda n, reps: np.tile(n, reps)),
    "repeat": _rearranged(lambda n, repeats, axis=None: np.repeat(n, repeats, axis=axis)),
    "roll": _rearranged(lambda n, shift, axis=None: np.roll(n, shift, axis=axis)),
    "rot90": _rearranged(lambda n, k=1, axes=(0, 1): np.rot90(n, k, axes)),
    "pad": _pad,
    "full": lambda c, shape, dtype=None: c + np.zeros(shape),
    "sort": _sort,
    "partition": _partition,
    "select": _select,
}
