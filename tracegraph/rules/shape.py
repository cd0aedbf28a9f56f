"""Shape and selection: reshape, transpose, indexing, concatenate, stack, broadcast_to, pack.

Indexing covers basic slices, boolean masks and integer ("fancy") indexing
with repeated indices such as ``X[np.triu_indices(n, 1)]``; its VJP
scatter-adds, so a row picked twice receives both contributions.  ``pack``
is an array built from traced numbers (``np.array([a, b, c])``).
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from ..core import SPARSE_FACTOR, Scattered
from ..core.var import astype, getitem, pack, plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive, reject_arguments
from ..formula import Symbols
from .indexing import GETITEM_ROUTES, SCATTER_ROUTES

SHAPE = "shape and indexing"


def _ndim(a) -> int:
    return np.ndim(plain_value(a))


def available(routes: dict) -> dict:
    """``routes`` without the entries for functions this numpy lacks (written
    ``getattr(np, "unstack", None)``: the array-API names arrived with numpy 2).

    Example:
        >>> list(available({np.sum: None, getattr(np, "no_such_function", None): None})) == [np.sum]
        True
    """
    return {func: adapter for func, adapter in routes.items() if func is not None}


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def normalize_axes(axes, ndim: int) -> tuple[int, ...]:
    """Axes as non-negative ints, checked against ``ndim`` like numpy does.

    Example:
        >>> normalize_axes(-1, 3), normalize_axes((0, -2), 3)
        ((2,), (0, 1))
    """
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    result = []
    for axis in axes:
        axis = int(axis)
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(axis, ndim)
        result.append(axis % ndim)
    if len(set(result)) != len(result):
        raise ValueError("repeated axis")
    return tuple(result)


# --------------------------------------------------------------------------- reshape / transpose


def shape_probe(shape) -> np.ndarray:
    """A read-only array of ``shape`` that takes no memory: numpy's own shape
    functions run on it to learn a result's shape (``np.squeeze(probe, axis)``).

    Example:
        >>> np.squeeze(shape_probe((1, 3, 1)), axis=0).shape
        (3, 1)
    """
    return np.broadcast_to(np.empty((), np.uint8), tuple(shape))


def axes_probe(ndim: int) -> np.ndarray:
    """A probe whose axis ``i`` has length ``i + 1``, so a transposed probe's shape
    spells the permutation (``np.rollaxis(axes_probe(3), 2).shape`` is ``(3, 1, 2)``).

    Example:
        >>> axes_probe(3).shape
        (1, 2, 3)
        >>> tuple(n - 1 for n in np.moveaxis(axes_probe(3), 0, -1).shape)   # the axis order
        (1, 2, 0)
    """
    return shape_probe(tuple(range(1, ndim + 1)))


def _reshape(x, shape, order="C"):
    return np.reshape(x, shape, order=order)


def _target_shape(a, shape) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return tuple(int(s) for s in shape)


def _memory_order(a, order, what) -> str:
    """numpy's ``order`` argument resolved to "C" or "F" for this value ("A": F when the
    value is Fortran- and not C-contiguous)."""
    if order in ("C", None):
        return "C"
    if order == "F":
        return "F"
    if order == "A":
        flags = np.asarray(plain_value(a)).flags
        return "F" if flags.f_contiguous and not flags.c_contiguous else "C"
    raise ValueError(f"{what}: order must be one of 'C', 'F', 'A' (got {order!r})")


def _reshape_route(prim, a, shape=None, order="C", *, newshape=None, copy=None):
    target = _target_shape(a, shape if shape is not None else newshape)
    memory = _memory_order(a, order, "np.reshape")
    return prim(a, shape=target) if memory == "C" else prim(a, shape=target, order=memory)


def _ravel_route(prim, a, order="C"):
    if order != "K":
        memory = _memory_order(a, order, "np.ravel")
        return prim(a, shape=(-1,)) if memory == "C" else prim(a, shape=(-1,), order=memory)
    # "K": the order the elements have in memory, which depends on the value's strides.
    value = np.asarray(plain_value(a))
    numbering = np.empty_like(value, dtype=np.intp)  # same memory layout as the value
    numbering[...] = np.arange(value.size).reshape(value.shape)
    positions = np.ravel(numbering, order="K")
    if np.array_equal(positions, np.arange(value.size)):
        return prim(a, shape=(-1,))
    if np.array_equal(positions, np.ravel(numbering, order="F")):
        return prim(a, shape=(-1,), order="F")
    return getitem(prim(a, shape=(-1,)), index=positions)


def _squeeze_route(prim, a, axis=None):
    return prim(a, shape=np.squeeze(shape_probe(_shape(a)), axis=axis).shape)


def _expand_dims_route(prim, a, axis):
    return prim(a, shape=np.expand_dims(shape_probe(_shape(a)), axis).shape)


def _atleast(function):
    def route(prim, *arys):
        results = []
        for ary in arys:
            shape = _shape(ary)
            target = function(shape_probe(shape)).shape
            results.append(ary if target == shape else prim(ary, shape=target))
        return results[0] if len(results) == 1 else tuple(results)
    return route


def _copy_route(prim, a, order="K", subok=False):
    return a


def _transpose(x, axes=None):
    return np.transpose(x, axes)


def _transpose_vjp(g, out, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, tuple(int(i) for i in np.argsort([a % _ndim(x) for a in axes])))


def _transpose_route(prim, a, axes=None):
    return prim(a, axes=None if axes is None else tuple(int(i) for i in axes))


def _permutation_route(function):
    """A route for numpy functions that permute axes (swapaxes, moveaxis, rollaxis,
    matrix_transpose): numpy itself permutes a probe, whose shape gives the axes."""
    def route(prim, a, *args, **kwargs):
        ndim = _ndim(a)
        order = tuple(n - 1 for n in function(axes_probe(ndim), *args, **kwargs).shape)
        return a if order == tuple(range(ndim)) and ndim else prim(a, axes=order)
    return route


def _reshape_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 4))))
    target = (-1,) if rng.integers(0, 2) else tuple(reversed(shape))
    params = {"shape": target}
    if rng.integers(0, 2):
        params["order"] = "F"
    return (rng.normal(size=shape),), params


def _transpose_sample(rng):
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    axes = None if rng.integers(0, 2) else tuple(int(a) for a in rng.permutation(ndim))
    return (rng.normal(size=shape),), {"axes": axes}


def _reshape_display(s: Symbols) -> str:
    order = s.params.get("order", "C")
    suffix = "" if order == "C" else f", order='{order}'"
    return f"reshape({s['x']}, {s.params['shape']}{suffix})"


RESHAPE = defprimitive(
    "reshape", _reshape, display=_reshape_display,
    category=SHAPE, grads={"x": (lambda g, out, x, shape, order="C":
                                 np.reshape(g, _shape(x), order=order), "reshape ḡ back")},
    numpy={np.reshape: _reshape_route, np.ravel: _ravel_route, np.squeeze: _squeeze_route,
           np.expand_dims: _expand_dims_route, np.copy: _copy_route,
           np.atleast_1d: _atleast(np.atleast_1d), np.atleast_2d: _atleast(np.atleast_2d),
           np.atleast_3d: _atleast(np.atleast_3d)},
    sample=_reshape_sample,
    doc="np.reshape(x, shape, order) / x.reshape / np.ravel / np.squeeze / np.expand_dims / "
        "np.atleast_1d, 2d, 3d",
)
TRANSPOSE = defprimitive(
    "transpose", _transpose, category=SHAPE,
    display=lambda s: f"{s['x']:p}ᵀ" if s.params.get("axes") is None
    else f"transpose({s['x']}, {s.params['axes']})",
    grads={"x": (_transpose_vjp, "transpose ḡ back")},
    numpy={np.transpose: _transpose_route,  # np.permute_dims is the same function
           np.swapaxes: _permutation_route(np.swapaxes),
           np.moveaxis: _permutation_route(np.moveaxis),
           np.rollaxis: _permutation_route(np.rollaxis),
           **available({
               getattr(np, "matrix_transpose", None):
                   _permutation_route(getattr(np, "matrix_transpose", None)),
               getattr(np.linalg, "matrix_transpose", None):
                   _permutation_route(getattr(np.linalg, "matrix_transpose", None))})},
    sample=_transpose_sample,
    doc="np.transpose(x, axes) / x.T / np.swapaxes / np.moveaxis / np.rollaxis",
)


def _astype(x, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise UnsupportedOperationError(
            f"astype({dtype.name})", reason="complex values are not traced")
    return np.asarray(x).astype(dtype)


def _astype_vjp(g, out, x, dtype):
    if np.dtype(dtype).kind != "f":
        return None  # a cast to integers or booleans is piecewise constant, like np.floor
    return astype(g, dtype=np.result_type(plain_value(x)))


def _astype_formula(s: Symbols) -> str:
    return "1 (in the input's dtype)" if np.dtype(s.params["dtype"]).kind == "f" \
        else "0 (a cast to integers)"


def _astype_sample(rng):
    # float32 -> float64 only: finite differences cannot resolve a float32 result.
    shape = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    return (rng.normal(size=shape).astype(np.float32),), {"dtype": np.dtype(float)}


defprimitive(
    astype, _astype, category=SHAPE,
    display=lambda s: f"{s['x']}.astype({np.dtype(s.params['dtype']).name})",
    grads={"x": (_astype_vjp, _astype_formula)},
    numpy=available({getattr(np, "astype", None): lambda prim, x, dtype, /, *, copy=True,
                     device=None: prim(x, dtype=np.dtype(dtype))}),
    sample=_astype_sample,
    doc="x.astype(dtype) / np.astype: between float dtypes (a cast to integers has "
        "gradient 0)",
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


def _empty_as_integers(index):
    """An empty list index (``x[[]]``, which the traced value hands over as
    ``np.asarray([])``, a float array) as numpy reads the list: an empty integer index."""
    if type(index) is tuple:
        return tuple(_empty_as_integers(part) for part in index)
    if type(index) is np.ndarray and index.size == 0 and index.dtype.kind == "f":
        return index.astype(np.intp)
    return index


def _scatter_add(shape, index, g, lazy=False):
    """Gradient of ``x[index]``: zeros of x's shape with ``g`` added at ``index``; with
    ``lazy``, a small basic selection stays a :class:`~tracegraph.core.Scattered` part
    (added in place when the backward pass reaches x)."""
    g = np.asarray(g)
    index = _empty_as_integers(index)
    parts = index if isinstance(index, tuple) else (index,)
    integer = [_is_integer_array(p) for p in parts]
    if not any(integer):
        if len(parts) == len(shape) and g.shape == shape and all(
                type(p) is slice and p.start is None and p.stop is None and p.step in (None, -1)
                for p in parts):
            # A flip: every element picked once, and reversing twice is the identity.
            return g[index]
        if lazy and math.prod(shape) >= SPARSE_FACTOR * g.size:
            return Scattered(shape, index, g)  # a row of a big array
        # Basic slices and boolean masks select each element at most once.
        grad = np.zeros(shape, dtype=g.dtype if g.dtype.kind == "f" else float)
        grad[index] = g
        return grad
    if all(integer) and len(parts) <= len(shape):
        return _bincount_scatter(shape, parts, g)  # the X[I] − X[J] of pairwise distances
    grad = np.zeros(shape, dtype=g.dtype if g.dtype.kind == "f" else float)
    np.add.at(grad, index, g)
    return grad


def _bincount_scatter(shape, parts, g):
    """Scatter-add for pure integer-array indexing, via np.bincount.

    Much faster than np.add.at for the X[I] - X[J] pattern of pairwise distances:
    one bincount over every element, element ``k`` of row ``index[i]`` into bin
    ``index[i]·rest + k``, adds in the order np.add.at would (the same sums, bit for bit).
    """
    lead = shape[: len(parts)]
    rest_size = math.prod(shape[len(parts):])
    bins = math.prod(lead)
    element_bins = _element_bins(parts, lead, bins, rest_size)
    summed = np.bincount(element_bins, weights=g.reshape(-1), minlength=bins * rest_size)
    return summed.reshape(shape)


_SEEN_INDICES: dict[int, tuple[weakref.ref, tuple[int, ...], np.ndarray | None]] = {}
REUSED_BINS_LIMIT = 1 << 20
"""Element bins of up to this many entries are kept for an index scattered through again."""


def _element_bins(parts, lead, bins, rest_size):
    """The bincount bin of every element of ``x[parts]`` (see :func:`_bincount_scatter`).

    A descent step scatters through the same index every step, and the tape's index
    arrays are read-only copies it owns (see :meth:`Tape.frozen`): from an index's second
    scatter on, its bins are kept while the array lives.  A single backward pass never
    keeps them.
    """
    index = parts[0]
    key = (*lead, rest_size)
    reusable = len(parts) == 1 and rest_size > 1 and type(index) is np.ndarray \
        and not index.flags.writeable and index.base is None \
        and index.size * rest_size <= REUSED_BINS_LIMIT
    seen = _SEEN_INDICES.get(id(index)) if reusable else None
    if seen is not None and (seen[0]() is not index or seen[1] != key):
        seen = None
    if seen is not None and seen[2] is not None:
        return seen[2]
    if len(parts) == 1:
        flat = index.ravel()
    else:
        flat = np.ravel_multi_index(np.broadcast_arrays(*parts), lead, mode="wrap").ravel()
    if flat.size and flat.min() < 0:  # negative indices count from the end, as in numpy
        flat = np.mod(flat, bins)
    if rest_size == 1:
        return flat
    element_bins = np.empty((flat.size, rest_size), dtype=np.intp)
    np.multiply(flat, rest_size, out=element_bins[:, 0], casting="unsafe")
    np.add(element_bins[:, :1], np.arange(1, rest_size), out=element_bins[:, 1:])
    element_bins = element_bins.reshape(-1)
    if reusable:
        _SEEN_INDICES[id(index)] = (_forgetting_ref(index), key, None) if seen is None \
            else (seen[0], key, element_bins)
    return element_bins


def _forgetting_ref(index):
    """A weak reference that drops ``index``'s entry when the array is freed (the dict is
    bound as a default: module globals are gone at interpreter exit)."""
    key = id(index)
    return weakref.ref(index, lambda _, key=key, seen=_SEEN_INDICES: seen.pop(key, None))


def _getitem(x, index):
    if type(index) is np.ndarray and index.dtype.kind in "iu" and type(x) is np.ndarray \
            and x.ndim:
        # The same rows as x[index] (negative indices and bounds errors alike), several
        # times faster on small arrays: the X[I] − X[J] of pairwise distances.
        return x.take(index, axis=0)
    return x[_empty_as_integers(index)]


def _scatter_vjp(g, x, index):
    if type(g) is np.ndarray and type(x) is np.ndarray:
        # Nothing traced (a first-order backward pass): skip the primitive's dispatch.
        return _scatter_add(x.shape, index, g, lazy=True)
    return SCATTER_ADD(g, shape=_shape(x), index=index)


def _getitem_sample(rng):
    n, m = (int(v) for v in rng.integers(2, 5, size=2))
    x = rng.normal(size=(n, m))
    kind = int(rng.integers(0, 7))
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
    elif kind == 5:
        index = (np.newaxis, Ellipsis, -1)
    else:
        index = (slice(None), slice(None, None, -1))  # a flip
    return (x,), {"index": index}


def _scatter_sample(rng):
    (x,), params = _getitem_sample(rng)
    picked = x[params["index"]]
    return (rng.normal(size=np.shape(picked)),), {"shape": x.shape, "index": params["index"]}


# getitem and scatter_add are each other's VJP, so both differentiate any number of times.
SCATTER_ADD = defprimitive(
    "scatter_add", lambda g, shape, index: _scatter_add(shape, index, g), category=SHAPE,
    display=lambda s: f"scatter({s['g']} → [{format_index(s.params['index'])}])",
    grads={"g": (lambda g2, out, g, shape, index: getitem(g2, index=index),
                 "ḡ[index]")},
    numpy=SCATTER_ROUTES, sample=_scatter_sample,
    doc="zeros(shape) with g added at index (repeats add up): the VJP of indexing, and "
        "np.bincount(bins, weights=g)",
)
defprimitive(
    getitem, _getitem, category=SHAPE,
    display=lambda s: f"{s['x']:p}[{format_index(s.params['index'])}]",
    grads={"x": (lambda g, out, x, index: _scatter_vjp(g, x, index),
                 "scatter ḡ into zeros (repeats add up)")},
    numpy=GETITEM_ROUTES, sample=_getitem_sample,
    doc="x[index]: slices, masks, integer and repeated indices; np.take, take_along_axis, "
        "flip, split",
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


def _concatenate_route(prim, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    reject_arguments("np.concatenate", out=out, dtype=dtype,
                     casting=None if casting == "same_kind" else casting)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [np.ravel(a) for a in arrays], 0
    return prim(*arrays, axis=int(axis))


def _atleast_1d(a):
    return np.reshape(a, (1,)) if _ndim(a) == 0 else a


def _hstack_route(prim, tup, *, dtype=None, casting="same_kind"):
    arrays = [_atleast_1d(a) for a in tup]
    axis = 0 if arrays and _ndim(arrays[0]) == 1 else 1
    return _concatenate_route(prim, arrays, axis=axis, dtype=dtype, casting=casting)


def _vstack_route(prim, tup, *, dtype=None, casting="same_kind"):
    arrays = [a if _ndim(a) >= 2 else np.reshape(a, (1, -1)) for a in tup]
    return _concatenate_route(prim, arrays, axis=0, dtype=dtype, casting=casting)


def _dstack_route(prim, tup):
    arrays = [np.atleast_3d(a) for a in tup]
    return _concatenate_route(prim, arrays, axis=2)


def _column_stack_route(prim, tup):
    arrays = [np.reshape(a, (-1, 1)) if _ndim(a) < 2 else a for a in tup]
    return _concatenate_route(prim, arrays, axis=1)


def _stack_route(prim, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    reject_arguments("np.stack", out=out, dtype=dtype,
                     casting=None if casting == "same_kind" else casting)
    arrays = list(arrays)
    axis = normalize_axes(axis, _ndim(arrays[0]) + 1)[0] if arrays else int(axis)
    return prim(*arrays, axis=axis)


def _unstack_route(prim, x, /, *, axis=0):
    (axis,) = normalize_axes(axis, _ndim(x))
    return tuple(getitem(x, index=(slice(None),) * axis + (i,))
                 for i in range(_shape(x)[axis]))


defprimitive(
    "concatenate", _concatenate, variadic=True, category=SHAPE,
    numpy={np.concatenate: _concatenate_route,  # np.concat is the same function
           np.hstack: _hstack_route, np.vstack: _vstack_route,
           **available({getattr(np, "row_stack", None): _vstack_route}),
           np.dstack: _dstack_route, np.column_stack: _column_stack_route},
    display=lambda s: f"concat({_joined(s)})",
    grads={"arrays": (lambda g, out, *arrays, axis=0, position=0:
                      _block(g, arrays, axis, position),
                      lambda s: f"ḡ block {s.position}")},
    sample=_join_sample(stacked=False),
    doc="np.concatenate(arrays, axis) / np.hstack, vstack, dstack, column_stack",
)
defprimitive(
    "stack", _stack, variadic=True, category=SHAPE,
    numpy=available({np.stack: _stack_route, getattr(np, "unstack", None): _unstack_route}),
    display=lambda s: f"stack({_joined(s)})",
    grads={"arrays": (lambda g, out, *arrays, axis=0, position=0:
                      getitem(g, index=(slice(None),) * (axis % _ndim(g)) + (position,)),
                      lambda s: f"ḡ slice {s.position}")},
    sample=_join_sample(stacked=True), doc="np.stack(arrays, axis)",
)
def _broadcast_to_route(prim, array, shape, subok=False):
    return prim(array, shape=_target_shape(array, shape))


def _broadcast_arrays_route(prim, *args, subok=False):
    shape = np.broadcast_shapes(*(_shape(a) for a in args))
    return tuple(a if _shape(a) == shape else prim(a, shape=shape) for a in args)


def _broadcast_sample(rng):
    target = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(0, 4))))
    kept = target[int(rng.integers(0, len(target) + 1)):]
    shape = tuple(1 if rng.integers(0, 2) else n for n in kept)
    return (rng.normal(size=shape),), {"shape": target}


defprimitive(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), category=SHAPE,
    numpy={np.broadcast_to: _broadcast_to_route, np.broadcast_arrays: _broadcast_arrays_route},
    display=lambda s: f"broadcast({s['x']}, {s.params['shape']})",
    grads={"x": (lambda g, out, x, shape: g, "sum ḡ over broadcast axes")},
    sample=_broadcast_sample,
    doc="np.broadcast_to(x, shape) / np.broadcast_arrays",
)


# ---------------------------------------------------------------------- arrays of traced numbers


def _pack(*elements, shape=()):
    # numpy's own dtype for the list (float32 numbers make a float32 array, as in
    # `python FILE`); only ints and bools, which a traced value cannot stay, become float64
    values = np.asarray(elements)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    return values.reshape(tuple(shape) + values.shape[1:])


def _pack_vjp(g, out, *elements, shape=(), position=0):
    count = len(elements)
    return np.reshape(g, (count,) + _shape(elements[position]))[position]


def _pack_display(s: Symbols) -> str:
    items = [str(s.names[k]) for k in sorted((k for k in s.names if k.startswith("arg")),
                                             key=lambda k: int(k[3:]))]
    shown = items if len(items) <= 6 else items[:3] + ["…"] + items[-2:]
    return "[" + ", ".join(shown) + "]"


def _pack_sample(rng):
    count = int(rng.integers(1, 5))
    rows = 2 if count % 2 == 0 and rng.integers(0, 2) else 1
    shape = (rows, count // rows) if rows == 2 else (count,)
    return tuple(float(v) for v in rng.normal(size=count)), {"shape": shape}


defprimitive(
    pack, _pack, variadic=True, category=SHAPE, display=_pack_display,
    grads={"elements": (_pack_vjp, lambda s: f"ḡ element {s.position}")},
    sample=_pack_sample,
    doc="np.array([a, b, ...]) of traced values: one array, an edge per element",
)
