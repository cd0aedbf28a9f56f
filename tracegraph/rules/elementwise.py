"""Elementwise functions of one variable: exp, log, sqrt, trig, tanh ...

``scalar_impl`` is the ``math`` version used for Python floats (much faster
than a numpy call on a scalar); where ``math`` raises (log of a negative),
the numpy version runs instead so results match numpy exactly.
"""

from __future__ import annotations

import math

import numpy as np

from ..extend import defprimitive

ELEMENTWISE = "elementwise"
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _unary(name, func, scalar, derivative_text, vjp, *, display=None, domain=None, doc=""):
    defprimitive(
        name, func, scalar_impl=scalar, numpy=(func,), category=ELEMENTWISE,
        display=display or f"{name}({{x}})",
        grads={"x": (vjp, derivative_text)},
        domain={"x": domain} if domain else None,
        doc=doc or f"np.{name}(x)",
    )


_unary("exp", np.exp, math.exp, "exp({x})", lambda g, out, x: g * out)
_unary("expm1", np.expm1, math.expm1, "exp({x})", lambda g, out, x: g * (out + 1.0))
_unary("log", np.log, math.log, "1/{x:p}", lambda g, out, x: g / x, display="ln({x})",
       domain=(0.1, 5.0), doc="natural logarithm")
_unary("log1p", np.log1p, math.log1p, "1/(1 + {x})", lambda g, out, x: g / (1.0 + x),
       domain=(-0.5, 4.0))
_unary("log2", np.log2, math.log2, "1/({x:p}·ln 2)", lambda g, out, x: g / (x * _LN2),
       domain=(0.1, 5.0))
_unary("log10", np.log10, math.log10, "1/({x:p}·ln 10)", lambda g, out, x: g / (x * _LN10),
       domain=(0.1, 5.0))
_unary("sqrt", np.sqrt, math.sqrt, "1/(2·√{x:p})", lambda g, out, x: g * 0.5 / out,
       display="√{x:p}", domain=(0.1, 5.0))
_unary("sin", np.sin, math.sin, "cos({x})", lambda g, out, x: g * np.cos(x))
_unary("cos", np.cos, math.cos, "−sin({x})", lambda g, out, x: -g * np.sin(x))
_unary("tan", np.tan, math.tan, "1 + tan²({x})", lambda g, out, x: g * (1.0 + out * out),
       domain=(-1.2, 1.2))
_unary("arctan", np.arctan, math.atan, "1/(1 + {x:p}²)", lambda g, out, x: g / (1.0 + x * x))
_unary("sinh", np.sinh, math.sinh, "cosh({x})", lambda g, out, x: g * np.cosh(x))
_unary("cosh", np.cosh, math.cosh, "sinh({x})", lambda g, out, x: g * np.sinh(x))
_unary("tanh", np.tanh, math.tanh, "1 − {out:p}²", lambda g, out, x: g * (1.0 - out * out))
