"""References for the elementwise and piecewise rules (inverse trig and hyperbolic
functions, the log family, the two-argument functions, rounding, %, //, nan_to_num).

Rounding and sign are written as ``f(x) + 0·x`` so autograd sees a function of x whose
slope is zero (autograd treats them as constants otherwise).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np


def _flat(f):
    return lambda x, **params: f(x, **params) + 0.0 * x


def _cbrt(x):
    return anp.sign(x) * anp.abs(x) ** (1.0 / 3.0)


def _sinc(x):
    # The quotient where it is accurate, its Taylor series near 0 (where it cancels).
    small = np.abs(np.asarray(getattr(x, "_value", x))) < 1e-3
    series = 1.0 - (np.pi * x) ** 2 / 6.0 + (np.pi * x) ** 4 / 120.0
    if small.ndim == 0:  # autograd's where wants array cotangents
        return series if small else anp.sin(np.pi * x) / (np.pi * x)
    safe = anp.where(small, 1.0, x)
    return anp.where(small, series, anp.sin(np.pi * safe) / (np.pi * safe))


def _hypot(x, y):
    return anp.sqrt(x * x + y * y)


def _logaddexp(x, y):
    peak = anp.maximum(x, y)
    return peak + anp.log(anp.exp(x - peak) + anp.exp(y - peak))


def _logaddexp2(x, y):
    return _logaddexp(x * np.log(2.0), y * np.log(2.0)) / np.log(2.0)


def _mod(x, y):
    return x - anp.floor(x / y) * y


def _fmod(x, y):
    return x - anp.trunc(x / y) * y


def _floor_divide(x, y):
    return anp.floor(x / y) + 0.0 * (x + y)


def _heaviside(x, h0):
    value = np.asarray(getattr(x, "_value", x))
    return (value > 0) * 1.0 + (value == 0) * h0 + 0.0 * x


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    big = np.finfo(np.float64).max
    value = np.asarray(getattr(x, "_value", x))
    replacement = np.where(np.isnan(value), nan,
                           np.where(value > 0, big if posinf is None else posinf,
                                    -big if neginf is None else neginf))
    return anp.where(np.isfinite(value), x, replacement)


REFERENCES = {
    "exp2": lambda x: 2.0 ** x,
    "logaddexp": _logaddexp,
    "logaddexp2": _logaddexp2,
    "cbrt": _cbrt,
    "reciprocal": lambda x: 1.0 / x,
    "arcsin": anp.arcsin,
    "arccos": anp.arccos,
    "sinc": _sinc,
    "deg2rad": lambda x: x * (np.pi / 180.0),
    "rad2deg": lambda x: x * (180.0 / np.pi),
    "arctan2": lambda y, x: anp.arctan2(y, x),
    "hypot": _hypot,
    "arcsinh": lambda x: anp.log(x + anp.sqrt(x * x + 1.0)),
    "arccosh": lambda x: anp.log(x + anp.sqrt(x * x - 1.0)),
    "arctanh": lambda x: 0.5 * anp.log((1.0 + x) / (1.0 - x)),
    "floor": _flat(lambda x: anp.floor(x)),
    "ceil": _flat(lambda x: anp.ceil(x)),
    "trunc": _flat(lambda x: anp.trunc(x)),
    "rint": _flat(lambda x: anp.rint(x)),
    "sign": _flat(lambda x: anp.sign(x)),
    "round": _flat(lambda x, decimals=0: anp.round(x, decimals)),
    "heaviside": _heaviside,
    "mod": _mod,
    "fmod": _fmod,
    "floor_divide": _floor_divide,
    "nan_to_num": _nan_to_num,
}
