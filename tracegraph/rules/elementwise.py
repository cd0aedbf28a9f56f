"""Smooth elementwise functions: exp and the log family, roots, trig, hyperbolic and their
inverses, and the two-argument ones (arctan2, hypot, logaddexp, logaddexp2).

``scalar_impl`` is the ``math`` version: an expression file's ``math.exp(x)``
records the same rule with math's value (numpy's calls always run numpy's
function, whose last bit can differ from math's).  Functions
with a singular derivative at a point of their domain (∛x at 0, hypot at the
origin) declare it as a kink, so numeric checks step around it.
"""

from __future__ import annotations

import math

import numpy as np

from ..extend import defprimitive

ELEMENTWISE = "elementwise"
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG = math.pi / 180.0
_SINC_SERIES_BELOW = 1e-3


def _unary(name, func, scalar, derivative_text, vjp, *, display=None, domain=None, doc="",
           numpy=None, kink=None):
    return defprimitive(
        name, func, scalar_impl=scalar, numpy=numpy or (func,), category=ELEMENTWISE,
        display=display or f"{name}({{x}})",
        grads={"x": (vjp, derivative_text)},
        domain={"x": domain} if domain else None, kink=kink,
        doc=doc or f"np.{name}(x)",
    )


def _distance_from_zero(x):
    return float(np.min(np.abs(x))) if np.size(x) else math.inf


# --------------------------------------------------------------------------- exp and log


_unary("exp", np.exp, math.exp, "exp({x})", lambda g, out, x: g * out)
_unary("expm1", np.expm1, math.expm1, "exp({x})", lambda g, out, x: g * (out + 1.0))
_unary("exp2", np.exp2, lambda x: 2.0 ** x, "2^{x:p}·ln 2", lambda g, out, x: g * out * _LN2,
       display="2^{x:p}")
_unary("log", np.log, math.log, "1/{x:p}", lambda g, out, x: g / x, display="ln({x})",
       domain=(0.1, 5.0), doc="natural logarithm")
_unary("log1p", np.log1p, math.log1p, "1/(1 + {x})", lambda g, out, x: g / (1.0 + x),
       domain=(-0.5, 4.0))
_unary("log2", np.log2, math.log2, "1/({x:p}·ln 2)", lambda g, out, x: g / (x * _LN2),
       domain=(0.1, 5.0))
_unary("log10", np.log10, math.log10, "1/({x:p}·ln 10)", lambda g, out, x: g / (x * _LN10),
       domain=(0.1, 5.0))


def _logaddexp_vjp(first):
    def vjp(g, out, x, y):
        return g * np.exp((x if first else y) - out)
    return vjp


def _logaddexp2_vjp(first):
    def vjp(g, out, x, y):
        return g * np.exp2((x if first else y) - out)
    return vjp


defprimitive(
    "logaddexp", np.logaddexp, numpy=(np.logaddexp,), category=ELEMENTWISE,
    display="ln(e^{x:p} + e^{y:p})",
    grads={"x": (_logaddexp_vjp(True), "σ({x} − {y:p})"),
           "y": (_logaddexp_vjp(False), "σ({y} − {x:p})")},
    doc="np.logaddexp(x, y) = ln(eˣ + eʸ), computed without overflow",
)
defprimitive(
    "logaddexp2", np.logaddexp2, numpy=(np.logaddexp2,), category=ELEMENTWISE,
    display="log₂(2^{x:p} + 2^{y:p})",
    grads={"x": (_logaddexp2_vjp(True), "2^{x:p}/(2^{x:p} + 2^{y:p})"),
           "y": (_logaddexp2_vjp(False), "2^{y:p}/(2^{x:p} + 2^{y:p})")},
    doc="np.logaddexp2(x, y) = log₂(2ˣ + 2ʸ), computed without overflow",
)

# --------------------------------------------------------------------------- powers and roots

_unary("sqrt", np.sqrt, math.sqrt, "1/(2·√{x:p})", lambda g, out, x: g * 0.5 / out,
       display="√{x:p}", domain=(0.1, 5.0),
       doc="np.sqrt(x) (the derivative at 0 is +inf, as the limit from the right)")
_unary("cbrt", np.cbrt, math.cbrt, "1/(3·∛{x:p}²)", lambda g, out, x: g / (3.0 * out * out),
       display="∛{x:p}", kink=_distance_from_zero,
       doc="np.cbrt(x) (not differentiable at 0, where the tangent is vertical)")
_unary("reciprocal", np.reciprocal, lambda x: 1.0 / x, "−1/{x:p}²",
       lambda g, out, x: -g * out * out, display="1/{x:p}", domain=(0.2, 4.0))

# --------------------------------------------------------------------------- trig


def _sinc(x):
    return np.sinc(x)


def _sinc_vjp(g, out, x):
    # sinc'(x) = (cos(πx) − sinc(x))/x cancels badly near 0; the series −π²x/3 + π⁴x³/30
    # takes over there (and gives sinc'(0) = 0 exactly).
    small = np.less(np.abs(x), _SINC_SERIES_BELOW)
    safe = np.where(small, 1.0, x)
    series = x * (-(math.pi ** 2) / 3.0 + (math.pi ** 4 / 30.0) * x * x)
    return g * np.where(small, series, (np.cos(math.pi * x) - out) / safe)


_unary("sin", np.sin, math.sin, "cos({x})", lambda g, out, x: g * np.cos(x))
_unary("cos", np.cos, math.cos, "−sin({x})", lambda g, out, x: -g * np.sin(x))
_unary("tan", np.tan, math.tan, "1 + tan²({x})", lambda g, out, x: g * (1.0 + out * out),
       domain=(-1.2, 1.2))
_unary("arcsin", np.arcsin, math.asin, "1/√(1 − {x:p}²)",
       lambda g, out, x: g / np.sqrt(1.0 - x * x), domain=(-0.9, 0.9))
_unary("arccos", np.arccos, math.acos, "−1/√(1 − {x:p}²)",
       lambda g, out, x: -g / np.sqrt(1.0 - x * x), domain=(-0.9, 0.9))
_unary("arctan", np.arctan, math.atan, "1/(1 + {x:p}²)", lambda g, out, x: g / (1.0 + x * x))
_unary("sinc", _sinc, None, "(cos(π{x:p}) − sinc({x}))/{x:p}", _sinc_vjp,
       numpy=(np.sinc,), doc="np.sinc(x) = sin(πx)/(πx), with sinc(0) = 1 and sinc'(0) = 0")
_unary("deg2rad", np.deg2rad, math.radians, "π/180", lambda g, out, x: g * _DEG,
       numpy=(np.deg2rad, np.radians), doc="np.deg2rad(x) / np.radians(x): degrees to radians")
_unary("rad2deg", np.rad2deg, math.degrees, "180/π", lambda g, out, x: g / _DEG,
       numpy=(np.rad2deg, np.degrees), doc="np.rad2deg(x) / np.degrees(x): radians to degrees")


def _arctan2_kink(y, x):
    """The branch cut (the negative x axis, where the angle jumps by 2π) and the origin."""
    y, x = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    if not y.size:
        return math.inf
    radius = np.hypot(x, y)
    cut = np.where(x < 0, np.abs(y), np.inf)
    return float(min(np.min(radius), np.min(cut)))


def _hypot_vjp(first):
    def vjp(g, out, x, y):
        # At the origin the derivative is taken as 0, like the norm's (docs/non-differentiable.md).
        zero = np.equal(out, 0)
        return g * np.where(zero, 0.0, (x if first else y) / np.where(zero, 1.0, out))
    return vjp


def _hypot_kink(x, y):
    return float(np.min(np.hypot(x, y))) if np.size(np.hypot(x, y)) else math.inf


defprimitive(
    "arctan2", np.arctan2, numpy=(np.arctan2,), category=ELEMENTWISE,
    display="atan2({y}, {x})",
    grads={"y": (lambda g, out, y, x: g * x / (x * x + y * y), "{x:p}/({x:p}² + {y:p}²)"),
           "x": (lambda g, out, y, x: -g * y / (x * x + y * y), "−{y:p}/({x:p}² + {y:p}²)")},
    kink=_arctan2_kink,
    doc="np.arctan2(y, x): the angle of the point (x, y), jumping by 2π across the negative "
        "x axis",
)
defprimitive(
    "hypot", np.hypot, numpy=(np.hypot,), category=ELEMENTWISE,
    display="hypot({x}, {y})",
    grads={"x": (_hypot_vjp(True), "{x:p}/{out:p}"),
           "y": (_hypot_vjp(False), "{y:p}/{out:p}")},
    kink=_hypot_kink,
    doc="np.hypot(x, y) = √(x² + y²) (derivative 0 at the origin, like the norm)",
)

# --------------------------------------------------------------------------- hyperbolic

_unary("sinh", np.sinh, math.sinh, "cosh({x})", lambda g, out, x: g * np.cosh(x))
_unary("cosh", np.cosh, math.cosh, "sinh({x})", lambda g, out, x: g * np.sinh(x))
_unary("tanh", np.tanh, math.tanh, "1 − {out:p}²", lambda g, out, x: g * (1.0 - out * out))
_unary("arcsinh", np.arcsinh, math.asinh, "1/√({x:p}² + 1)",
       lambda g, out, x: g / np.sqrt(x * x + 1.0))
_unary("arccosh", np.arccosh, math.acosh, "1/√({x:p}² − 1)",
       lambda g, out, x: g / np.sqrt(x * x - 1.0), domain=(1.1, 4.0))
_unary("arctanh", np.arctanh, math.atanh, "1/(1 − {x:p}²)",
       lambda g, out, x: g / (1.0 - x * x), domain=(-0.9, 0.9))
