"""Piecewise functions: rounding (floor, ceil, trunc, rint, round), sign, ``%`` and ``//``
(mod, fmod, floor_divide), and nan_to_num.

Rounding and sign are constant between their jumps, so their derivative is 0
wherever it exists: each is a node whose edge carries the local derivative 0
(the gradient visibly stops there), and its jumps are declared as kinks so
``tracegraph check`` says "not differentiable here" on them instead of
grading.  ``x % y`` is ``x − ⌊x/y⌋·y``: slope 1 in x between its jumps and
−⌊x/y⌋ in y.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import plain_value
from ..core.var import floor_divide, mod
from ..extend import defprimitive, reject_arguments

PIECEWISE = "piecewise"


def _zeros_like(x):
    value = plain_value(x)
    return np.zeros(np.shape(value), dtype=np.result_type(value, np.float64))


def _no_slope(g, out, x, *rest, **params):
    """The local derivative 0, shaped like the input (not ``g * 0``, which keeps NaNs)."""
    return _zeros_like(x)


def _no_slope_second(g, out, x, y, **params):
    return _zeros_like(y)


def _smallest(gaps) -> float:
    gaps = np.asarray(gaps, dtype=float)
    return float(np.min(gaps)) if gaps.size else math.inf


def _integer_gap(x, skip_zero=False):
    """Distance from x to the nearest integer (the jumps of floor, ceil, trunc)."""
    x = np.asarray(x, dtype=float)
    nearest = np.round(x)
    gap = np.abs(x - nearest)
    if skip_zero:  # trunc is flat across 0
        gap = np.where(nearest == 0, np.abs(np.abs(x) - 1.0), gap)
    return _smallest(gap)


def _half_integer_gap(x, decimals=0):
    """Distance from x to the nearest point where rounding to ``decimals`` jumps."""
    scale = 10.0 ** decimals
    scaled = np.asarray(x, dtype=float) * scale
    return _smallest(np.abs(scaled - (np.floor(scaled) + 0.5)) / scale)


def _quotient_gap(x, y, *, skip_zero=False):
    """Distance in x to a jump of x % y or x // y (x/y an integer); y = 0 counts too."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if not x.size:
        return math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / y
        nearest = np.round(ratio)
        gap = np.abs(ratio - nearest) * np.abs(y)
        if skip_zero:  # fmod and trunc division are continuous where the quotient is 0
            gap = np.where(nearest == 0, (1.0 - np.abs(ratio)) * np.abs(y), gap)
    return float(min(np.nanmin(np.where(np.isfinite(gap), gap, 0.0)), np.min(np.abs(y))))


def _rounding(name, func, kink, display, doc, numpy=None):
    return defprimitive(
        name, func, display=display, numpy=numpy or (func,), category=PIECEWISE,
        grads={"x": (_no_slope, "0")}, kink=kink, domain={"x": (-3.0, 3.0)}, doc=doc,
    )


def _fix_route(prim, x, out=None):
    # np.fix is trunc written as a numpy function rather than a ufunc.
    reject_arguments("np.fix", out=out)
    return prim(x)


_rounding("floor", np.floor, _integer_gap, "⌊{x}⌋",
          "np.floor(x): derivative 0 (jumps at the integers)")
_rounding("ceil", np.ceil, _integer_gap, "⌈{x}⌉",
          "np.ceil(x): derivative 0 (jumps at the integers)")
_rounding("trunc", np.trunc, lambda x: _integer_gap(x, skip_zero=True), "trunc({x})",
          "np.trunc(x) / np.fix(x): derivative 0 (jumps at the nonzero integers)",
          numpy={np.trunc: None, np.fix: lambda prim, x, out=None: _fix_route(prim, x, out)})
_rounding("rint", np.rint, _half_integer_gap, "rint({x})",
          "np.rint(x): derivative 0 (jumps halfway between integers)")
_rounding("sign", np.sign, lambda x: _smallest(np.abs(x)), "sign({x})",
          "np.sign(x): derivative 0 (jumps at 0)")


def _heaviside_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    return (rng.normal(size=shape), rng.normal(size=shape[-1:])), {}


HEAVISIDE = defprimitive(
    "heaviside", np.heaviside, display="H({x}, {h0})", category=PIECEWISE,
    numpy=(np.heaviside,),
    grads={"x": (_no_slope, "0"),
           "h0": (lambda g, out, x, h0: g * np.equal(plain_value(x), 0), "[{x} = 0]")},
    kink=lambda x, h0: _smallest(np.abs(x)), sample=_heaviside_sample,
    doc="np.heaviside(x, h0): 0 below 0, 1 above, h0 at 0; derivative 0 in x",
)


def _round(x, decimals=0):
    return np.round(x, decimals)


def _round_route(prim, a, decimals=0, out=None):
    reject_arguments("np.round", out=out)
    return prim(a, decimals=int(decimals))


def _round_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    return (rng.uniform(-3.0, 3.0, size=shape),), {"decimals": int(rng.integers(-1, 3))}


defprimitive(
    "round", _round, category=PIECEWISE,
    display=lambda s: f"round({s['x']}" + (f", {s.params['decimals']})"
                                          if s.params.get("decimals") else ")"),
    numpy={np.round: _round_route, np.around: _round_route},
    grads={"x": (_no_slope, "0")}, kink=_half_integer_gap, sample=_round_sample,
    doc="np.round(x, decimals) / np.around: derivative 0 (jumps halfway between steps)",
)


# --------------------------------------------------------------------------- % and //


def _mod(x, y):
    return np.mod(x, y)


def _floor_divide(x, y):
    return np.floor_divide(x, y)


def _divmod_route(prim, x, y, out=None, **kwargs):
    reject_arguments("np.divmod", out=out)
    return prim(x, y), mod(x, y)


_QUOTIENT_DOMAIN = {"x": (-4.0, 4.0), "y": (0.5, 3.0)}

defprimitive(
    mod, _mod, display="{x:p} mod {y:p}", numpy=(np.mod,), category=PIECEWISE,
    grads={"x": (lambda g, out, x, y: g, "1"),
           "y": (lambda g, out, x, y: -g * np.floor(x / y), "−⌊{x:p}/{y:p}⌋")},
    kink=_quotient_gap, domain=_QUOTIENT_DOMAIN,
    doc="x % y / np.mod / np.remainder = x − ⌊x/y⌋·y (jumps where x/y is an integer)",
)
defprimitive(
    "fmod", np.fmod, display="fmod({x}, {y})", numpy=(np.fmod,), category=PIECEWISE,
    grads={"x": (lambda g, out, x, y: g, "1"),
           "y": (lambda g, out, x, y: -g * np.trunc(x / y), "−trunc({x:p}/{y:p})")},
    kink=lambda x, y: _quotient_gap(x, y, skip_zero=True), domain=_QUOTIENT_DOMAIN,
    doc="np.fmod(x, y) = x − trunc(x/y)·y, C's remainder (jumps where x/y is a nonzero "
        "integer)",
)
defprimitive(
    floor_divide, _floor_divide, display="⌊{x:p}/{y:p}⌋", category=PIECEWISE,
    numpy={np.floor_divide: None, np.divmod: _divmod_route},
    grads={"x": (_no_slope, "0"), "y": (_no_slope_second, "0")},
    kink=_quotient_gap, domain=_QUOTIENT_DOMAIN,
    doc="x // y / np.floor_divide = ⌊x/y⌋: derivative 0 (jumps where x/y is an integer)",
)


# --------------------------------------------------------------------------- nan_to_num


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_route(prim, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return prim(x, nan=float(nan), posinf=None if posinf is None else float(posinf),
                neginf=None if neginf is None else float(neginf))


def _nan_to_num_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(1, 3)))
    x = rng.normal(size=shape)
    special = rng.random(shape)
    x[special < 0.2] = np.nan
    if rng.integers(0, 2):  # numpy's defaults (only NaNs: ±inf would become ±1.8e308)
        return (x,), {"nan": 0.0, "posinf": None, "neginf": None}
    x[(special >= 0.2) & (special < 0.3)] = np.inf
    x[(special >= 0.3) & (special < 0.4)] = -np.inf
    return (x,), {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}


defprimitive(
    "nan_to_num", _nan_to_num, display="nan_to_num({x})", category=PIECEWISE,
    numpy={np.nan_to_num: _nan_to_num_route},
    grads={"x": (lambda g, out, x, nan=0.0, posinf=None, neginf=None:
                 g * np.isfinite(plain_value(x)), "[{x} finite]")},
    sample=_nan_to_num_sample,
    doc="np.nan_to_num(x): NaN and ±inf replaced by numbers; gradient 1 where x is finite, "
        "0 where it was replaced",
)
