"""scipy.special: the error and gamma families, Bessel functions, expit/logit, xlogy.

These are numpy ufuncs, so ``scipy.special.erf(x)`` on a traced value reaches
tracegraph through numpy's own dispatch.  The module imports scipy, so
``import tracegraph`` never loads it: the core declares these rules the first
time one of scipy.special's ufuncs meets a traced value (or when
:mod:`tracegraph.scipy` is imported).  ``scipy.special.expit`` routes to the
``sigmoid`` rule.  Arguments without a derivative rule here (the order v of
iv/ive, the a of gammainc) are refused when traced instead of getting a silent 0.

The non-ufunc functions (logsumexp, softmax, log_softmax, polygamma) convert
their input with ``np.asarray``; :mod:`tracegraph.scipy.special` has versions
that trace them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from ..core import registry
from ..extend import defprimitive, refuse_traced
from .neural import SIGMOID

SPECIAL = "scipy.special"
_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
_HALF_ROOT_PI = math.sqrt(math.pi) / 2.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _unary(name, func, formula, vjp, *, domain=None, kink=None, display=None, doc=""):
    return defprimitive(
        name, func, numpy=(func,), category=SPECIAL, display=display or f"{name}({{x}})",
        grads={"x": (vjp, formula)}, domain={"x": domain} if domain else None, kink=kink,
        doc=doc or f"scipy.special.{name}(x)",
    )


def _distance_from_zero(x):
    return float(np.min(np.abs(x))) if np.size(x) else math.inf


# --------------------------------------------------------------------------- error function

_unary("erf", sc.erf, "2/√π·exp(−{x:p}²)",
       lambda g, out, x: g * _TWO_OVER_ROOT_PI * np.exp(-x * x))
_unary("erfc", sc.erfc, "−2/√π·exp(−{x:p}²)",
       lambda g, out, x: -g * _TWO_OVER_ROOT_PI * np.exp(-x * x))
_unary("erfcx", sc.erfcx, "2{x:p}·erfcx({x}) − 2/√π",
       lambda g, out, x: g * (2.0 * x * out - _TWO_OVER_ROOT_PI))
_unary("erfinv", sc.erfinv, "√π/2·exp({out:p}²)",
       lambda g, out, x: g * _HALF_ROOT_PI * np.exp(out * out), domain=(-0.9, 0.9))
_unary("erfcinv", sc.erfcinv, "−√π/2·exp({out:p}²)",
       lambda g, out, x: -g * _HALF_ROOT_PI * np.exp(out * out), domain=(0.1, 1.9))
_unary("ndtr", sc.ndtr, "exp(−{x:p}²/2)/√(2π)",
       lambda g, out, x: g * np.exp(-0.5 * x * x - _HALF_LOG_2PI), display="Φ({x})",
       doc="scipy.special.ndtr(x): the standard normal CDF Φ")
_unary("log_ndtr", sc.log_ndtr, "φ({x})/Φ({x})",
       lambda g, out, x: g * np.exp(-0.5 * x * x - _HALF_LOG_2PI - out), display="ln Φ({x})",
       doc="scipy.special.log_ndtr(x) = ln Φ(x), accurate far into the tail")
_unary("ndtri", sc.ndtri, "√(2π)·exp({out:p}²/2)",
       lambda g, out, x: g * np.exp(0.5 * out * out + _HALF_LOG_2PI), display="Φ⁻¹({x})",
       domain=(0.02, 0.98), doc="scipy.special.ndtri(p): the inverse of Φ")

# --------------------------------------------------------------------------- gamma family


def _polygamma(x, n=0):
    return sc.polygamma(n, x)


POLYGAMMA = defprimitive(
    "polygamma", _polygamma, category=SPECIAL,
    display=lambda s: f"ψ{'⁽' + str(s.params.get('n', 0)) + '⁾' if s.params.get('n') else ''}"
                      f"({s['x']})",
    grads={"x": (lambda g, out, x, n=0: g * POLYGAMMA(x, n=n + 1), "ψ⁽ⁿ⁺¹⁾({x})")},
    sample=lambda rng: ((rng.uniform(0.5, 4.0, size=tuple(rng.integers(1, 4, size=rng.integers(
        0, 3)))),), {"n": int(rng.integers(0, 3))}),
    doc="scipy.special.polygamma(n, x): the n-th derivative of the digamma function ψ",
)
_unary("gamma", sc.gamma, "Γ({x})·ψ({x})", lambda g, out, x: g * out * POLYGAMMA(x, n=0),
       domain=(0.3, 4.0), display="Γ({x})")
_unary("gammaln", sc.gammaln, "ψ({x})", lambda g, out, x: g * POLYGAMMA(x, n=0),
       domain=(0.3, 6.0), display="ln Γ({x})",
       doc="scipy.special.gammaln(x) = ln|Γ(x)|")
_unary("digamma", sc.digamma, "ψ′({x})", lambda g, out, x: g * POLYGAMMA(x, n=1),
       domain=(0.3, 6.0), display="ψ({x})",
       doc="scipy.special.digamma(x) / scipy.special.psi(x) = Γ′(x)/Γ(x)")


def _beta_vjp(first, log):
    def vjp(g, out, a, b):
        shared = POLYGAMMA(a + b, n=0)
        own = POLYGAMMA(a if first else b, n=0)
        return g * (own - shared) if log else g * out * (own - shared)
    return vjp


_AB_DOMAIN = {"a": (0.3, 4.0), "b": (0.3, 4.0)}

defprimitive(
    "beta", sc.beta, numpy=(sc.beta,), category=SPECIAL, display="B({a}, {b})",
    grads={"a": (_beta_vjp(True, False), "B({a}, {b})·(ψ({a}) − ψ({a} + {b}))"),
           "b": (_beta_vjp(False, False), "B({a}, {b})·(ψ({b}) − ψ({a} + {b}))")},
    domain=_AB_DOMAIN, doc="scipy.special.beta(a, b) = Γ(a)Γ(b)/Γ(a + b)",
)
defprimitive(
    "betaln", sc.betaln, numpy=(sc.betaln,), category=SPECIAL, display="ln B({a}, {b})",
    grads={"a": (_beta_vjp(True, True), "ψ({a}) − ψ({a} + {b})"),
           "b": (_beta_vjp(False, True), "ψ({b}) − ψ({a} + {b})")},
    domain=_AB_DOMAIN, doc="scipy.special.betaln(a, b) = ln|B(a, b)|",
)


def _regularized_route(function, fixed):
    def route(prim, *args, **kwargs):
        for name, value in zip(fixed, args):
            refuse_traced(function, name, value)
        return prim(*args, **kwargs)
    return route


def _gammainc_vjp(sign):
    def vjp(g, out, a, x):
        return sign * g * np.exp((a - 1.0) * np.log(x) - x - sc.gammaln(a))
    return vjp


defprimitive(
    "gammainc", sc.gammainc, category=SPECIAL, display="P({a}, {x})",
    numpy={sc.gammainc: _regularized_route("scipy.special.gammainc", ("a",))},
    grads={"a": None, "x": (_gammainc_vjp(1.0), "{x:p}^({a} − 1)·e^−{x:p}/Γ({a})")},
    domain={"a": (0.5, 3.0), "x": (0.2, 4.0)},
    doc="scipy.special.gammainc(a, x): the regularized lower incomplete gamma function "
        "(derivative in x; a must be plain)",
)
defprimitive(
    "gammaincc", sc.gammaincc, category=SPECIAL, display="Q({a}, {x})",
    numpy={sc.gammaincc: _regularized_route("scipy.special.gammaincc", ("a",))},
    grads={"a": None, "x": (_gammainc_vjp(-1.0), "−{x:p}^({a} − 1)·e^−{x:p}/Γ({a})")},
    domain={"a": (0.5, 3.0), "x": (0.2, 4.0)},
    doc="scipy.special.gammaincc(a, x) = 1 − gammainc(a, x) (derivative in x; a plain)",
)
defprimitive(
    "betainc", sc.betainc, category=SPECIAL, display="I({x}; {a}, {b})",
    numpy={sc.betainc: _regularized_route("scipy.special.betainc", ("a", "b"))},
    grads={"a": None, "b": None,
           "x": (lambda g, out, a, b, x: g * np.exp((a - 1.0) * np.log(x)
                                                    + (b - 1.0) * np.log1p(-x)
                                                    - sc.betaln(a, b)),
                 "{x:p}^({a} − 1)·(1 − {x})^({b} − 1)/B({a}, {b})")},
    domain={"a": (0.5, 3.0), "b": (0.5, 3.0), "x": (0.05, 0.95)},
    doc="scipy.special.betainc(a, b, x): the regularized incomplete beta function "
        "(derivative in x; a, b plain)",
)

# --------------------------------------------------------------------------- logistic

registry.register(SIGMOID, {sc.expit: None})  # expit is the sigmoid: one rule
_unary("logit", sc.logit, "1/({x:p}·(1 − {x}))", lambda g, out, x: g / (x * (1.0 - x)),
       domain=(0.05, 0.95), doc="scipy.special.logit(p) = ln(p/(1 − p))")
_unary("log_expit", sc.log_expit, "σ(−{x})", lambda g, out, x: g * SIGMOID(-x),
       display="ln σ({x})", doc="scipy.special.log_expit(x) = ln σ(x), computed stably")

# --------------------------------------------------------------------------- x·log y


def _x_over(g, x, y, pole):
    """g·x/y (pole 0) or g·x/(1 + y) (pole −1), 0 where x = 0: x·ln y is 0 there for
    every y, so flat in y, also at y = ``pole`` where the plain quotient is 0/0."""
    both = np.equal(x, 0) & np.equal(y, pole)
    if np.any(both):
        y = np.where(both, pole + 1.0, y)
    return g * x / (y if pole == 0.0 else 1.0 + y)


defprimitive(
    "xlogy", sc.xlogy, numpy=(sc.xlogy,), category=SPECIAL, display="{x:p}·ln {y:p}",
    grads={"x": (lambda g, out, x, y: g * np.log(y), "ln {y:p}"),
           "y": (lambda g, out, x, y: _x_over(g, x, y, 0.0), "{x:p}/{y:p}")},
    domain={"y": (0.1, 4.0)},
    doc="scipy.special.xlogy(x, y) = x·ln y, 0 where x = 0 (so ∂/∂y = 0 there, also at "
        "y = 0; ∂/∂x = ln 0 = −inf at y = 0)",
)
defprimitive(
    "xlog1py", sc.xlog1py, numpy=(sc.xlog1py,), category=SPECIAL,
    display="{x:p}·ln(1 + {y})",
    grads={"x": (lambda g, out, x, y: g * np.log1p(y), "ln(1 + {y})"),
           "y": (lambda g, out, x, y: _x_over(g, x, y, -1.0), "{x:p}/(1 + {y})")},
    domain={"y": (-0.8, 4.0)},
    doc="scipy.special.xlog1py(x, y) = x·ln(1 + y), 0 where x = 0 (so ∂/∂y = 0 there, "
        "also at y = −1)",
)

# --------------------------------------------------------------------------- Bessel


def _sign(x):
    return np.sign(x)


IV = defprimitive(
    "iv", sc.iv, category=SPECIAL, display="I_{v}({x})",
    numpy={sc.iv: _regularized_route("scipy.special.iv", ("v",))},
    grads={"v": None,
           "x": (lambda g, out, v, x: g * 0.5 * (sc.iv(v - 1.0, x) + sc.iv(v + 1.0, x)),
                 "(I_{v}−1({x}) + I_{v}+1({x}))/2")},
    sample=lambda rng: ((float(rng.choice([0.0, 0.5, 1.0, 2.5])),
                         rng.uniform(0.2, 3.0, size=tuple(rng.integers(1, 4, size=rng.integers(
                             0, 3))))), {}),
    doc="scipy.special.iv(v, x): the modified Bessel function of the first kind "
        "(derivative in x; v plain)",
)
IVE = defprimitive(
    "ive", sc.ive, category=SPECIAL, display="Iₑ_{v}({x})",
    numpy={sc.ive: _regularized_route("scipy.special.ive", ("v",))},
    grads={"v": None,
           "x": (lambda g, out, v, x: g * (0.5 * (sc.ive(v - 1.0, x) + sc.ive(v + 1.0, x))
                                           - _sign(x) * out),
                 "(ive({v}−1, {x}) + ive({v}+1, {x}))/2 − sign({x})·ive({v}, {x})")},
    sample=lambda rng: ((float(rng.choice([0.0, 0.5, 1.0, 2.5])),
                         rng.uniform(0.2, 3.0, size=tuple(rng.integers(1, 4, size=rng.integers(
                             0, 3))))), {}),
    kink=lambda v, x: _distance_from_zero(x),
    doc="scipy.special.ive(v, x) = iv(v, x)·e^−|x| (derivative in x; v plain)",
)
_unary("i0", sc.i0, "I₁({x})", lambda g, out, x: g * sc.i1(x), display="I₀({x})",
       doc="scipy.special.i0(x): the modified Bessel function of order 0")
def _i1_vjp(g, out, x):
    # I₁′(x) = I₀(x) − I₁(x)/x, and its series ½ + 3x²/16 near 0 (where the quotient is 0/0
    # and scipy's I₂ of a tiny x is NaN).
    small = np.less(np.abs(x), 1e-4)
    safe = np.where(small, 1.0, x)
    return g * np.where(small, 0.5 + 0.1875 * x * x, sc.i0(x) - out / safe)


_unary("i1", sc.i1, "I₀({x}) − I₁({x})/{x:p}", _i1_vjp, display="I₁({x})",
       doc="scipy.special.i1(x): the modified Bessel function of order 1")
_unary("i0e", sc.i0e, "i1e({x}) − sign({x})·i0e({x})",
       lambda g, out, x: g * (sc.i1e(x) - _sign(x) * out), kink=_distance_from_zero,
       doc="scipy.special.i0e(x) = I₀(x)·e^−|x|")
_unary("i1e", sc.i1e, "(i0e({x}) + ive(2, {x}))/2 − sign({x})·i1e({x})",
       lambda g, out, x: g * (0.5 * (sc.i0e(x) + sc.ive(2.0, x)) - _sign(x) * out),
       kink=_distance_from_zero, doc="scipy.special.i1e(x) = I₁(x)·e^−|x|")
