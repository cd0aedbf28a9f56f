"""Convolution: ``np.convolve`` / ``np.correlate`` (1-D) and, through
:mod:`tracegraph.scipy.signal`, ``scipy.signal.convolve`` / ``correlate`` (any dimension).

One primitive with scipy's semantics (``mode`` full / same / valid, the
output of "same" shaped like the first input).  Its VJPs are convolutions
too: the upstream gradient is placed in a full-size array of zeros and
correlated with the other input in "valid" mode, so the rule differentiates
twice.  1-D convolutions compute with numpy alone; other dimensions import
scipy when they run.
"""

from __future__ import annotations

import numpy as np

from ..core import plain_value
from ..extend import defprimitive
from .shape import SCATTER_ADD

CONVOLUTION = "convolution"
MODES = ("full", "same", "valid")


def _shape(x) -> tuple[int, ...]:
    return np.shape(plain_value(x))


def _window(shape1, shape2, mode):
    """Where the output of ``mode`` sits inside the full convolution: start per axis."""
    if mode == "full":
        return (0,) * len(shape1)
    if mode == "same":
        return tuple((a + b - 1 - a) // 2 for a, b in zip(shape1, shape2))
    return tuple(min(a, b) - 1 for a, b in zip(shape1, shape2))


def _convolve(in1, in2, mode="full"):
    in1, in2 = np.asarray(in1, dtype=float), np.asarray(in2, dtype=float)
    if in1.ndim == 1:
        # numpy's modes agree with scipy's except "same" with the shorter input first;
        # "valid" must not go through "full" (the VJP of a kernel is a long × long valid).
        if mode != "same" or in1.size >= in2.size:
            return np.convolve(in1, in2, mode)
        start = _window(in1.shape, in2.shape, mode)[0]
        return np.convolve(in1, in2, "full")[start:start + in1.size]
    from scipy import signal  # only N-D convolutions need scipy

    return signal.convolve(in1, in2, mode=mode)


def flip(x):
    """``x`` reversed along every axis (a getitem node when traced).

    Example:
        >>> flip(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[4.0, 3.0], [2.0, 1.0]]
    """
    return x[(slice(None, None, -1),) * len(_shape(x))]


def _full_upstream(g, in1, in2, mode):
    shape1, shape2 = _shape(in1), _shape(in2)
    full = tuple(a + b - 1 for a, b in zip(shape1, shape2))
    if mode == "full":
        return g
    start = _window(shape1, shape2, mode)
    index = tuple(slice(s, s + n) for s, n in zip(start, _shape(g)))
    return SCATTER_ADD(g, shape=full, index=index)


def _convolve_vjp(first):
    def vjp(g, out, in1, in2, mode="full"):
        spread = _full_upstream(g, in1, in2, mode)
        return CONVOLVE(spread, flip(in2 if first else in1), mode="valid")
    return vjp


def _check(in1, in2, mode, function):
    if mode not in MODES:
        raise ValueError(f"{function}: acceptable mode flags are 'valid', 'same', or 'full'")
    shape1, shape2 = _shape(in1), _shape(in2)
    if len(shape1) != len(shape2):
        raise ValueError(f"{function}: in1 and in2 should have the same dimensionality")
    if mode == "valid" and not (all(a >= b for a, b in zip(shape1, shape2))
                                or all(b >= a for a, b in zip(shape1, shape2))):
        raise ValueError(f"{function}: for 'valid' mode, one must be at least as large as "
                         "the other in every dimension")


def convolve(prim, in1, in2, mode="full", function="scipy.signal.convolve"):
    """Record ``in1 ∗ in2`` with scipy's semantics (shared by the numpy and scipy routes).

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> convolve(REGISTRY["convolve"], np.ones(3), np.ones(2), "same").tolist()
        [1.0, 2.0, 2.0]
    """
    _check(in1, in2, mode, function)
    return prim(in1, in2, mode=mode)


def correlate(prim, in1, in2, mode="full", function="scipy.signal.correlate"):
    """Record the cross-correlation of real inputs: ``in1 ∗ flip(in2)``.

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> correlate(REGISTRY["convolve"], np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0]),
        ...           "valid").tolist()
        [3.0, 5.0]
    """
    _check(in1, in2, mode, function)
    return prim(in1, flip(in2), mode=mode)


def _as_1d(a, function):
    ndim = len(_shape(a))
    if ndim > 1:
        raise ValueError(f"{function}: object too deep for desired array (1-D only)")
    return np.reshape(a, (1,)) if ndim == 0 else a


def _np_convolve_route(prim, a, v, mode="full"):
    a, v = _as_1d(a, "np.convolve"), _as_1d(v, "np.convolve")
    if _shape(v)[0] > _shape(a)[0]:  # numpy convolves the longer with the shorter
        a, v = v, a
    return convolve(prim, a, v, mode, "np.convolve")


def _np_correlate_route(prim, a, v, mode="valid"):
    a, v = _as_1d(a, "np.correlate"), _as_1d(v, "np.correlate")
    if _shape(v)[0] > _shape(a)[0]:  # numpy swaps the inputs and reverses the result
        return flip(correlate(prim, v, a, mode, "np.correlate"))
    return correlate(prim, a, v, mode, "np.correlate")


def _sample(rng):
    ndim = int(rng.integers(1, 3))
    mode = str(rng.choice(MODES))
    big = tuple(int(n) for n in rng.integers(1, 5, size=ndim))
    small = tuple(int(rng.integers(1, n + 1)) for n in big)
    if mode != "valid" and rng.integers(0, 2):
        small = tuple(int(n) for n in rng.integers(1, 5, size=ndim))
    shapes = (big, small) if rng.integers(0, 2) else (small, big)
    return (rng.normal(size=shapes[0]), rng.normal(size=shapes[1])), {"mode": mode}


CONVOLVE = defprimitive(
    "convolve", _convolve, category=CONVOLUTION,
    display=lambda s: f"{s['in1']:p} ∗ {s['in2']:p}" + (
        "" if s.params.get("mode", "full") == "full" else f" ({s.params['mode']})"),
    numpy={np.convolve: _np_convolve_route, np.correlate: _np_correlate_route},
    grads={"in1": (_convolve_vjp(True), "ḡ (zero-padded to full) ⋆ {in2} (valid)"),
           "in2": (_convolve_vjp(False), "ḡ (zero-padded to full) ⋆ {in1} (valid)")},
    sample=_sample,
    doc="convolution with scipy's modes (full, same, valid): np.convolve, np.correlate, "
        "tracegraph.scipy.signal.convolve / correlate",
)
