"""Shape and selection: reshape, transpose, indexing, concatenate, stack, broadcast_to.

Indexing covers basic slices, boolean masks and integer ("fancy") indexing
with repeated indices such as ``X[np.triu_indices(n, 1)]``; its VJP
scatter-adds, so a row picked twice receives both contributions.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import Symbols
from ._declare import defprimitive

SHAPE = "shape and indexing"


# --------------------------------------------------------------------------- reshape / transpose


def _reshape(x, shape):
    return np.reshape(x, shape)


def _transpose(x, axes=None):
    return np.transpose(x, axes)


def _transpose_vjp(g, out, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(x) for a in axes]))


def _reshape_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 4))))
    target = (-1,) if rng.integers(0, 2) else tuple(reversed(shape))
    return (rng.normal(size=shape),), {"shape": target}


def _transpose_sample(rng):
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    axes = None if rng.integers(0, 2) else tuple(int(a) for a in rng.permutation(ndim))
    return (rng.normal(size=shape),), {"axes": axes}


defprimitive(
    "reshape", _reshape, display=lambda s: f"reshape({s['x']}, {s.params['shape']})",
    category=SHAPE, grads={"x": (lambda g, out, x, shape: np.reshape(g, np.shape(x)),
                                 "reshape ḡ back")},
    sample=_reshape_sample, doc="np.reshape(x, shape) / x.reshape / np.ravel / np.squeeze",
)
defprimitive(
    "transpose", _transpose, category=SHAPE,
    display=lambda s: f"{s['x']:p}ᵀ" if s.params.get("axes") is None
    else f"transpose({s['x']}, {s.params['axes']})",
    grads={"x": (_transpose_vjp, "transpose ḡ back")},
    sample=_transpose_sample, doc="np.transpose(x, axes) / x.T",
)


# --------------------------------------------------------------------------- indexing


def format_index(index) -> str:
    """A short readable form of an index: ``0``, ``:, 1``, ``I`` arrays as ``[…34]``.

    Example:
        >>> import numpy as np
        >>> format_index((slice(None), 1)), format_index(np.array([1, 2, 2]))
        (':, 1', 'int[3]')
    """
    parts = index if isinstance(index, tuple) else (index,)
    return ", ".join(_format_index_part(p) for p in parts)


def _format_index_part(part) -> str:
    if isinstance(part, slice):
        text = ":".join("" if v is None else str(v) for v in (part.start, part.stop, part.step))
        return text.rstrip(":") or ":"
    if part is None:
        return "None"
    if part is Ellipsis:
        return "..."
    if isinstance(part, np.ndarray):
        kind = "bool" if part.dtype == bool else "int"
        return f"{kind}[{'×'.join(map(str, part.shape))}]"
    return str(part)


def _is_integer_array(part) -> bool:
    return isinstance(part, np.ndarray) and part.dtype.kind in "iu"


def _scatter_add(shape, index, g):
    """Gradient of ``x[index]``: zeros of x's shape with ``g`` added at ``index``."""
    g = np.asarray(g)
    parts = index if isinstance(index, tuple) else (index,)
    if not any(_is_integer_array(p) for p in parts):
        # Basic slices and boolean masks select each element at most once.
        grad = np.zeros(shape, dtype=g.dtype if g.dtype.kind == "f" else float)
        grad[index] = g
        return grad
    if all(_is_integer_array(p) for p in parts) and len(parts) <= len(shape):
        return _bincount_scatter(shape, parts, g)
    grad = np.zeros(shape, dtype=g.dtype if g.dtype.kind == "f" else float)
    np.add.at(grad, index, g)
    return grad


def _bincount_scatter(shape, parts, g):
    """Scatter-add for pure integer-array indexing, via np.bincount.

    Much faster than np.add.at for the X[I] - X[J] pattern of pairwise distances.
    """
    lead = shape[: len(parts)]
    rest_size = math.prod(shape[len(parts):])
    if len(parts) == 1:
        flat = parts[0].ravel()
    else:
        flat = np.ravel_multi_index(np.broadcast_arrays(*parts), lead, mode="wrap").ravel()
    bins = math.prod(lead)
    weights = np.reshape(g, (flat.size, rest_size))
    try:
        return _bincount_columns(flat, weights, bins, rest_size).reshape(shape)
    except ValueError:  # negative indices count from the end, as in numpy
        return _bincount_columns(np.mod(flat, bins), weights, bins, rest_size).reshape(shape)


def _bincount_columns(flat, weights, bins, rest_size):
    if rest_size == 1:
        return np.bincount(flat, weights=weights[:, 0], minlength=bins)
    if rest_size <= 16:
        summed = np.empty((bins, rest_size))
        for k in range(rest_size):
            summed[:, k] = np.bincount(flat, weights=weights[:, k], minlength=bins)
        return summed
    spread = (flat[:, np.newaxis] * rest_size + np.arange(rest_size)).ravel()
    return np.bincount(spread, weights=weights.ravel(), minlength=bins * rest_size)


def _getitem(x, index):
    return x[index]


def _getitem_sample(rng):
    n, m = (int(v) for v in rng.integers(2, 5, size=2))
    x = rng.normal(size=(n, m))
    kind = int(rng.integers(0, 6))
    if kind == 0:
        index = (slice(1, None), 0)
    elif kind == 1:
        index = np.array([0, n - 1, 0, 1])  # repeated rows
    elif kind == 2:
        x = rng.normal(size=(n, n))
        index = np.triu_indices(n, 1)  # the pairs of a distance matrix
    elif kind == 3:
        index = x > 0
    elif kind == 4:
        index = (slice(None), np.array([m - 1, 0, m - 1]))
    else:
        index = (np.newaxis, Ellipsis, -1)
    return (x,), {"index": index}


defprimitive(
    "getitem", _getitem, category=SHAPE,
    display=lambda s: f"{s['x']:p}[{format_index(s.params['index'])}]",
    grads={"x": (lambda g, out, x, index: _scatter_add(np.shape(x), index, g),
                 "scatter ḡ into zeros (repeats add up)")},
    sample=_getitem_sample, doc="x[index]: slices, masks, integer and repeated indices",
)


# --------------------------------------------------------------------------- joining


def _block(g, arrays, axis, position):
    ndim = np.ndim(g)
    axis %= ndim
    start = sum(np.shape(a)[axis] for a in arrays[:position])
    stop = start + np.shape(arrays[position])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


def _concatenate(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _stack(*arrays, axis=0):
    return np.stack(arrays, axis=axis)


def _joined(s: Symbols) -> str:
    return ", ".join(str(s.names[k]) for k in sorted(
        (k for k in s.names if k.startswith("arg")), key=lambda k: int(k[3:])))


def _join_sample(stacked):
    def sample(rng):
        count = int(rng.integers(1, 4))
        ndim = int(rng.integers(1, 3))
        base = [int(v) for v in rng.integers(1, 4, size=ndim)]
        axis = int(rng.integers(-ndim, ndim))
        arrays = []
        for _ in range(count):
            shape = list(base)
            if not stacked:
                shape[axis] = int(rng.integers(1, 4))
            arrays.append(rng.normal(size=tuple(shape)))
        return tuple(arrays), {"axis": axis}
    return sample


defprimitive(
    "concatenate", _concatenate, variadic=True, category=SHAPE,
    display=lambda s: f"concat({_joined(s)})",
    grads={"arrays": (lambda g, out, *arrays, axis=0, position=0:
                      _block(g, arrays, axis, position),
                      lambda s: f"ḡ block {s.position}")},
    sample=_join_sample(stacked=False), doc="np.concatenate(arrays, axis)",
)
defprimitive(
    "stack", _stack, variadic=True, category=SHAPE,
    display=lambda s: f"stack({_joined(s)})",
    grads={"arrays": (lambda g, out, *arrays, axis=0, position=0:
                      np.take(g, position, axis=axis),
                      lambda s: f"ḡ slice {s.position}")},
    sample=_join_sample(stacked=True), doc="np.stack(arrays, axis)",
)
defprimitive(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), category=SHAPE,
    display=lambda s: f"broadcast({s['x']}, {s.params['shape']})",
    grads={"x": (lambda g, out, x, shape: g, "sum ḡ over broadcast axes")},
    sample=lambda rng: ((rng.normal(size=(1, 3)),), {"shape": (2, 3)}),
    doc="np.broadcast_to(x, shape)",
)
