"""Rearranging arrays: np.tile, np.repeat, np.roll, np.rot90, np.pad, and filling one
(np.full_like with a traced fill value).

Each is one node.  Their VJPs undo the rearrangement: tile and repeat sum
the copies back, roll and rot90 rotate the other way, pad keeps the interior
(constant mode) or adds every padded copy back onto the element it copies
(edge, reflect, symmetric, wrap) with ``scatter_add``; full sums the copies of
its fill value.
"""

from __future__ import annotations

import numpy as np

from ..core.leaks import library_call
from ..core.var import is_traced, plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive, refuse_traced, reject_arguments
from ..formula import Symbols
from .shape import SCATTER_ADD, SHAPE, normalize_axes


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def _random_shape(rng, low=1, high=4, ndim=None):
    ndim = int(rng.integers(1, 4)) if ndim is None else ndim
    return tuple(int(n) for n in rng.integers(low, high, size=ndim))


# --------------------------------------------------------------------------- tile


def _tile_layout(shape, reps):
    """Shape and reps padded to the same length, as np.tile pads them."""
    ndim = max(len(shape), len(reps))
    return (1,) * (ndim - len(shape)) + tuple(shape), (1,) * (ndim - len(reps)) + tuple(reps)


def _tile_vjp(g, out, x, reps):
    shape, reps = _tile_layout(_shape(x), reps)
    copies = np.reshape(g, tuple(n for r, s in zip(reps, shape) for n in (r, s)))
    summed = np.sum(copies, axis=tuple(range(0, 2 * len(shape), 2)))
    return np.reshape(summed, _shape(x))


def _tile_route(prim, A, reps):
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    return prim(A, reps=reps)


TILE = defprimitive(
    "tile", lambda x, reps: np.tile(x, reps), category=SHAPE,
    display=lambda s: f"tile({s['x']}, {s.params['reps']})",
    numpy={np.tile: _tile_route},
    grads={"x": (_tile_vjp, "Σ of ḡ over the copies")},
    sample=lambda rng: ((rng.normal(size=_random_shape(rng, ndim=int(rng.integers(0, 3)))),),
                        {"reps": _random_shape(rng, 1, 3, ndim=int(rng.integers(1, 4)))}),
    doc="np.tile(x, reps): x repeated as whole blocks",
)


# --------------------------------------------------------------------------- repeat


def _repeat(x, repeats, axis=None):
    return np.repeat(x, repeats, axis=axis)


def _repeat_vjp(g, out, x, repeats, axis=None):
    shape = _shape(x)
    along = (int(np.prod(shape, dtype=np.int64)),) if axis is None else shape
    axis_ = 0 if axis is None else axis
    n = along[axis_]
    if isinstance(repeats, int):  # equal copies: sum them
        copies = np.reshape(g, along[:axis_] + (n, repeats) + along[axis_ + 1:])
        grad = np.sum(copies, axis=axis_ + 1)
    else:
        index = np.repeat(np.arange(n), repeats)
        grad = SCATTER_ADD(g, shape=along, index=(slice(None),) * axis_ + (index,))
    return np.reshape(grad, shape) if axis is None else grad


def _repeat_route(prim, a, repeats, axis=None):
    refuse_traced("np.repeat", "repeats", repeats)  # a count (numpy refuses a float one)
    ndim = np.ndim(plain_value(a))
    if axis is not None:
        (axis,) = normalize_axes(axis, ndim)
    repeats = np.asarray(plain_value(repeats))
    if repeats.ndim == 0 or repeats.size == 1:
        repeats = int(repeats.reshape(()))
    else:
        repeats = tuple(int(r) for r in repeats)
    return prim(a, repeats=repeats, axis=axis)


def _repeat_sample(rng):
    shape = _random_shape(rng)
    axis = None if rng.integers(0, 3) == 0 else int(rng.integers(0, len(shape)))
    length = int(np.prod(shape)) if axis is None else shape[axis]
    repeats = int(rng.integers(0, 3)) if rng.integers(0, 2) else tuple(
        int(r) for r in rng.integers(0, 3, size=length))
    return (rng.normal(size=shape),), {"repeats": repeats, "axis": axis}


defprimitive(
    "repeat", _repeat, category=SHAPE,
    display=lambda s: f"repeat({s['x']}, {s.params['repeats']})",
    numpy={np.repeat: _repeat_route},
    grads={"x": (_repeat_vjp, "Σ of ḡ over each element's copies")},
    sample=_repeat_sample,
    doc="np.repeat(x, repeats, axis): each element repeated in place",
)


# --------------------------------------------------------------------------- roll, rot90


def _roll_route(prim, a, shift, axis=None):
    ndim = np.ndim(plain_value(a))
    if axis is None:
        return prim(a, shift=int(shift) if np.ndim(shift) == 0 else
                    tuple(int(s) for s in shift), axis=None)
    axes = (int(axis),) if np.ndim(axis) == 0 else tuple(int(x) for x in axis)
    for ax in axes:
        normalize_axes(ax, ndim)
    shifts = (int(shift),) * len(axes) if np.ndim(shift) == 0 else tuple(int(s) for s in shift)
    shifts, axes = np.broadcast_arrays(np.array(shifts), np.array(axes))
    return prim(a, shift=tuple(int(s) for s in shifts), axis=tuple(int(x) for x in axes))


def _negated(shift):
    return -shift if isinstance(shift, int) else tuple(-s for s in shift)


def _roll_sample(rng):
    shape = _random_shape(rng)
    if rng.integers(0, 2):
        return (rng.normal(size=shape),), {"shift": int(rng.integers(-4, 5)), "axis": None}
    axes = tuple(int(a) for a in rng.integers(-len(shape), len(shape), size=2))
    return (rng.normal(size=shape),), {"shift": tuple(int(s) for s in rng.integers(-4, 5, 2)),
                                       "axis": axes}


ROLL = defprimitive(
    "roll", lambda x, shift, axis=None: np.roll(x, shift, axis=axis), category=SHAPE,
    display=lambda s: f"roll({s['x']}, {s.params['shift']})",
    numpy={np.roll: _roll_route},
    grads={"x": (lambda g, out, x, shift, axis=None: ROLL(g, shift=_negated(shift), axis=axis),
                 "roll ḡ back")},
    sample=_roll_sample,
    doc="np.roll(x, shift, axis): elements shifted cyclically",
)


def _rot90_route(prim, m, k=1, axes=(0, 1)):
    ndim = np.ndim(plain_value(m))
    axes = tuple(int(a) for a in axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    normalize_axes(axes, ndim)
    return prim(m, k=int(k) % 4, axes=axes)


def _rot90_sample(rng):
    shape = _random_shape(rng, ndim=int(rng.integers(2, 4)))
    axes = tuple(int(a) for a in rng.choice(len(shape), size=2, replace=False))
    return (rng.normal(size=shape),), {"k": int(rng.integers(0, 4)), "axes": axes}


ROT90 = defprimitive(
    "rot90", lambda x, k=1, axes=(0, 1): np.rot90(x, k, axes), category=SHAPE,
    display=lambda s: f"rot90({s['x']}, {s.params.get('k', 1)})",
    numpy={np.rot90: _rot90_route},
    grads={"x": (lambda g, out, x, k=1, axes=(0, 1): ROT90(g, k=(-k) % 4, axes=axes),
                 "rotate ḡ back")},
    sample=_rot90_sample,
    doc="np.rot90(x, k, axes): rotation by k quarter turns in the plane of axes",
)


# --------------------------------------------------------------------------- pad

_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad(x, pad_width, mode="constant", constant_values=0.0):
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


def _pad_vjp(g, out, x, pad_width, mode="constant", constant_values=0.0):
    shape = _shape(x)
    if mode == "constant":
        return g[tuple(slice(before, before + n) for (before, _), n in zip(pad_width, shape))]
    # Every output element copies one input element: pad the positions to find which.
    sources = [np.pad(np.arange(n), (before, after), mode=mode)
               for (before, after), n in zip(pad_width, shape)]
    return SCATTER_ADD(g, shape=shape, index=np.ix_(*sources))


def _as_pairs(value, ndim, kind):
    pairs = np.broadcast_to(np.asarray(value, dtype=kind), (ndim, 2))
    return tuple((kind(a), kind(b)) for a, b in pairs)


def _pad_route(prim, array, pad_width, mode="constant", **kwargs):
    ndim = np.ndim(plain_value(array))
    if not isinstance(mode, str) or mode not in ("constant",) + _INDEX_MODES:
        raise UnsupportedOperationError(
            f"np.pad(mode={mode!r})", reason="only the modes that copy elements are traced",
            hint="use mode='constant', 'edge', 'reflect', 'symmetric' or 'wrap'")
    if kwargs.get("reflect_type", "even") != "even":
        raise UnsupportedOperationError("np.pad(reflect_type='odd')",
                                        hint="use the default reflect_type='even'")
    widths = _as_pairs(plain_value(pad_width), ndim, int)
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError("index can't contain negative values")
    if mode != "constant":
        unknown = set(kwargs) - {"reflect_type"}
        if unknown:
            raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unknown}")
        return prim(array, pad_width=widths, mode=mode)
    values = kwargs.pop("constant_values", 0)
    if kwargs:
        raise ValueError(f"unsupported keyword arguments for mode 'constant': {set(kwargs)}")
    if is_traced(values):
        raise UnsupportedOperationError("np.pad with traced constant_values",
                                        hint="pad with a plain number, then add the traced "
                                        "value with np.where on a mask")
    return prim(array, pad_width=widths, mode="constant",
                constant_values=_as_pairs(values, ndim, float))


def _pad_sample(rng):
    shape = _random_shape(rng, 2, 5)
    mode = ("constant",) + _INDEX_MODES
    mode = mode[int(rng.integers(0, len(mode)))]
    widths = tuple((int(a), int(b)) for a, b in rng.integers(0, 3, size=(len(shape), 2)))
    params = {"pad_width": widths, "mode": mode}
    if mode == "constant":
        params["constant_values"] = tuple((float(a), float(b))
                                          for a, b in rng.normal(size=(len(shape), 2)))
    return (rng.normal(size=shape),), params


def _pad_formula(s: Symbols) -> str:
    if s.params.get("mode", "constant") == "constant":
        return "ḡ without the padding"
    return "ḡ with every padded copy added back"


defprimitive(
    "pad", _pad, category=SHAPE,
    display=lambda s: f"pad({s['x']}, {s.params.get('mode', 'constant')})",
    numpy={np.pad: _pad_route},
    grads={"x": (_pad_vjp, _pad_formula)},
    sample=_pad_sample,
    doc="np.pad(x, pad_width, mode) for mode constant, edge, reflect, symmetric, wrap",
)


# --------------------------------------------------------------------------- full_like


def _full(c, shape, dtype=None):
    return np.full(shape, c, dtype=dtype)


def _full_like_route(prim, a, fill_value, dtype=None, order="K", subok=True, shape=None,
                     **kwargs):
    # numpy dispatches np.full_like on its first argument: here ``a`` is traced.  Its
    # values do not matter (no gradient, no guard), only its shape and dtype.
    reject_arguments("np.full_like", **kwargs)
    plain = plain_value(a)
    result = np.dtype(dtype) if dtype is not None else np.asarray(plain).dtype
    if not is_traced(fill_value) or result.kind != "f":
        # a plain fill value; or one cast to integers, a step function (derivative 0)
        return np.full_like(plain, plain_value(fill_value), dtype=dtype, order=order,
                            subok=subok, shape=shape)
    if shape is None:
        target = _shape(a)
    else:
        target = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    return prim(fill_value, shape=target,
                dtype=None if result == np.float64 else result.name)


def _copyto_route(prim, dst, src, casting="same_kind", where=True):
    # np.full(shape, c, dtype=...) and np.full_like(plain, c) write c into a plain array
    entry = library_call()
    raise UnsupportedOperationError(
        entry[0] if entry else "np.copyto", location=entry[1] if entry else None,
        reason="it writes a traced value into a plain array (np.copyto), where the trace "
        "cannot follow it",
        hint="give the value its shape with traced operations: np.full_like(x, c) with x "
        "traced, np.broadcast_to(c, shape), or np.zeros(shape) + c")


def _full_sample(rng):
    target = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(0, 4))))
    kept = target[int(rng.integers(0, len(target) + 1)):]
    c_shape = tuple(1 if rng.integers(0, 2) else n for n in kept)
    c = rng.normal(size=c_shape) if c_shape or rng.integers(0, 2) else float(rng.normal())
    return (c,), {"shape": target}


defprimitive(
    "full", _full, category=SHAPE,
    display=lambda s: f"full({s['c']}, {s.params['shape']})",
    numpy={np.full_like: _full_like_route, np.copyto: _copyto_route},
    grads={"c": (lambda g, out, c, shape, dtype=None: g, "Σ of ḡ over the copies")},
    sample=_full_sample,
    doc="np.full_like(x, c) with a traced fill value c: x's shape filled with c (x gets no "
        "gradient); np.copyto of a traced value into a plain array is refused",
)
