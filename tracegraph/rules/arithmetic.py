"""Arithmetic: + − × ÷ **, negation, abs, square, maximum/minimum, fmax/fmin, where, clip.

Each ``defprimitive`` call below is one row of the derivative table:
implementation, one (VJP, local-derivative formula) per input, display.
VJPs receive ``(g, out, *inputs)``; broadcasting is undone by the backward
pass, so these rules work for scalars and arrays alike.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core import is_traced, plain_value
from ..core.var import absolute, add, divide, multiply, negative, power, subtract
from ..extend import defprimitive, reject_arguments
from ..formula import Symbols, superscript
from ..numbers import formula_constant

ARITHMETIC = "arithmetic"


def _power(x, y):
    """x ** y with numpy semantics (nan for negative bases, inf for 0 ** -1)."""
    if type(x) is float and type(y) in (float, int):
        try:
            if x >= 0.0 or float(y).is_integer():
                return x ** y
        except (OverflowError, ZeroDivisionError):
            pass
    return np.power(x, y)


def _power_vjp_base(g, out, x, y):
    if type(y) in (int, float):
        if y == 2:
            return g * 2.0 * x
        if y == 1:
            return g
        if y == 0:
            return g * 0.0 * x  # d(x⁰)/dx = 0 everywhere, also at 0 (0·0⁻¹ would be NaN)
    # y·x^(y−1); at x = 0 with y = 0 it is 0 (x⁰ is constant), not 0·0⁻¹ = NaN.
    local = y * _power(x, y - 1)
    if type(y) in (int, float) and y != 0:
        return g * local
    return g * np.where(np.logical_and(np.equal(y, 0), np.equal(x, 0)), 0.0, local)


def _power_vjp_exponent(g, out, x, y):
    # d(x^y)/dy = x^y·ln x; at x == 0 the limit of x^y·ln x is 0 for y > 0.
    safe_x = np.where(np.equal(x, 0), 1.0, x)
    return g * out * np.log(safe_x)


def _exponent_text(s: Symbols) -> str | None:
    """Superscript for a small integer constant exponent (``²``), else None."""
    c = s.constant("y")
    if isinstance(c, (int, float, np.integer, np.floating)) and float(c).is_integer() \
            and abs(c) < 100:
        return superscript(int(c))
    return None


def _power_display(s: Symbols) -> str:
    sup = _exponent_text(s)
    return f"{s['x']:p}{sup}" if sup else f"{s['x']:p}^{s['y']:p}"


def _power_formula_base(s: Symbols) -> str:
    c = s.constant("y")
    if isinstance(c, (int, float, np.integer, np.floating)):
        c = float(c)
        lower = c - 1
        coef = formula_constant(c)
        if lower == 0:
            return coef
        if lower == 1:
            return f"{coef}·{s['x']:p}"
        sup = (superscript(formula_constant(lower)) if lower.is_integer()
               else f"^{formula_constant(lower)}")
        return f"{coef}·{s['x']:p}{sup}"
    return "{y:p}·{x:p}^({y} − 1)".format_map(s.names)


def _power_kink(x, y):
    # x^y is smooth for x > 0; at x <= 0 only integer exponents are (and x^n near 0 is fine).
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    integral = np.equal(np.mod(y, 1), 0)
    dist = np.where(integral, np.inf, np.abs(x))
    return float(np.min(dist)) if dist.size else math.inf


def _sign_aware_division_kink(x, y):
    return float(np.min(np.abs(y))) if np.size(y) else math.inf


def _tie_gap(x, y):
    return float(np.min(np.abs(np.subtract(x, y)))) if np.size(np.subtract(x, y)) else math.inf


def winner_share(larger, smaller):
    """1 where ``larger > smaller``, ½ where they tie, else 0: the share of the gradient
    the first argument of a max gets (ties share it: docs/non-differentiable.md).  A plain
    mask; the tie term is only built when there is a tie (comparisons are cheap,
    np.heaviside is not).

    Example:
        >>> winner_share(np.array([2.0, 1.0, 0.0]), 1.0).tolist()
        [1.0, 0.5, 0.0]
    """
    share = np.greater(larger, smaller)
    tie = np.equal(larger, smaller)
    if np.any(tie):
        return share + 0.5 * tie
    return share


def _share_larger(g, out, x, y):
    return g * winner_share(x, y)


def _share_smaller(g, out, x, y):
    return g * winner_share(y, x)


defprimitive(
    add, operator.add, display="{x} + {y}", numpy=(np.add,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g, "1"),
           "y": (lambda g, out, x, y: g, "1")},
    doc="x + y",
)
defprimitive(
    subtract, operator.sub, display="{x} − {y:p}", numpy=(np.subtract,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g, "1"),
           "y": (lambda g, out, x, y: -g, "−1")},
    doc="x − y",
)
defprimitive(
    multiply, operator.mul, display="{x:p}·{y:p}", numpy=(np.multiply,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g * y, "{y}"),
           "y": (lambda g, out, x, y: g * x, "{x}")},
    doc="x · y",
)
defprimitive(
    divide, operator.truediv, display="{x:p}/{y:p}", numpy=(np.divide,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g / y, "1/{y:p}"),
           "y": (lambda g, out, x, y: -g * out / y, "−{x:p}/{y:p}²")},
    kink=_sign_aware_division_kink, domain={"y": (0.5, 3.0)},
    doc="x / y",
)
defprimitive(
    power, _power, display=_power_display, numpy=(np.power,), category=ARITHMETIC,
    grads={"x": (_power_vjp_base, _power_formula_base),
           "y": (_power_vjp_exponent, "{out:p}·ln({x})")},
    kink=_power_kink, domain={"x": (0.2, 3.0), "y": (-2.0, 3.0)},
    doc="x ** y (base and exponent may both be traced)",
)
defprimitive(
    negative, operator.neg, display="−{x:p}", numpy=(np.negative,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x: -g, "−1")},
    doc="−x",
)
defprimitive(
    absolute, lambda x: np.abs(x), display="|{x}|",
    numpy=(np.absolute, np.fabs), category=ARITHMETIC,
    grads={"x": (lambda g, out, x: g * np.sign(x), "sign({x})")},
    kink=lambda x: float(np.min(np.abs(x))) if np.size(x) else math.inf,
    doc="|x| (not differentiable at 0, where the rule gives sign(0) = 0: the two slopes ±1 "
        "share the tie)",
)
defprimitive(
    "square", np.square, display="{x:p}²",
    numpy=(np.square,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x: g * 2.0 * x, "2·{x:p}")},
    doc="x²",
)
defprimitive(
    "maximum", np.maximum, display="max({x}, {y})", numpy=(np.maximum,),
    category=ARITHMETIC,
    grads={"x": (_share_larger, "[{x} > {y}] + ½[{x} = {y}]"),
           "y": (lambda g, out, x, y: _share_larger(g, out, y, x), "[{y} > {x}] + ½[{x} = {y}]")},
    kink=_tie_gap,
    doc="np.maximum(x, y): elementwise maximum (at a tie x and y get ½ each)",
)
defprimitive(
    "minimum", np.minimum, display="min({x}, {y})", numpy=(np.minimum,),
    category=ARITHMETIC,
    grads={"x": (_share_smaller, "[{x} < {y}] + ½[{x} = {y}]"),
           "y": (lambda g, out, x, y: _share_smaller(g, out, y, x), "[{y} < {x}] + ½[{x} = {y}]")},
    kink=_tie_gap,
    doc="np.minimum(x, y): elementwise minimum (at a tie x and y get ½ each)",
)


def _nan_aware_share(share, x, y, first):
    """fmax/fmin pick the side that is not NaN (the first when both are): the share of
    the gradient of ``x`` (``first``) or ``y``, given the share ``share`` without NaNs."""
    x_nan, y_nan = np.isnan(x), np.isnan(y)
    if not (np.any(x_nan) or np.any(y_nan)):
        return share
    if first:
        return np.where(y_nan, 1.0, np.where(x_nan, 0.0, share))
    return np.where(y_nan, 0.0, np.where(x_nan, 1.0, share))


def _nan_aware_tie_gap(x, y):
    gaps = np.abs(np.subtract(x, y))
    gaps = gaps[~np.isnan(gaps)]
    return float(np.min(gaps)) if gaps.size else math.inf


def _fmax_sample(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    x, y = rng.normal(size=shape), rng.normal(size=shape)
    if shape:  # NaNs on either side, never both at once
        where = rng.random(shape)
        x[where < 0.2] = np.nan
        y[(where >= 0.2) & (where < 0.4)] = np.nan
    return (x, y), {}


defprimitive(
    "fmax", np.fmax, display="fmax({x}, {y})", numpy=(np.fmax,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g * _nan_aware_share(winner_share(x, y), x, y, True),
                 "[{x} > {y} or {y} NaN] + ½[{x} = {y}]"),
           "y": (lambda g, out, x, y: g * _nan_aware_share(winner_share(y, x), x, y, False),
                 "[{y} > {x} or {x} NaN] + ½[{x} = {y}]")},
    kink=_nan_aware_tie_gap, sample=_fmax_sample,
    doc="np.fmax(x, y): elementwise maximum ignoring NaN (the gradient goes to the side that "
        "is not NaN; at a tie x and y get ½ each)",
)
defprimitive(
    "fmin", np.fmin, display="fmin({x}, {y})", numpy=(np.fmin,), category=ARITHMETIC,
    grads={"x": (lambda g, out, x, y: g * _nan_aware_share(winner_share(y, x), x, y, True),
                 "[{x} < {y} or {y} NaN] + ½[{x} = {y}]"),
           "y": (lambda g, out, x, y: g * _nan_aware_share(winner_share(x, y), x, y, False),
                 "[{y} < {x} or {x} NaN] + ½[{x} = {y}]")},
    kink=_nan_aware_tie_gap, sample=_fmax_sample,
    doc="np.fmin(x, y): elementwise minimum ignoring NaN (the gradient goes to the side that "
        "is not NaN; at a tie x and y get ½ each)",
)


def _where_sample(rng):
    shape = tuple(rng.integers(1, 4, size=rng.integers(0, 3)))
    cond = rng.random(shape) > 0.5
    return (cond, rng.normal(size=shape), rng.normal(size=shape[-1:] if shape else ())), {}


def _where_route(prim, condition, x=None, y=None):
    if is_traced(condition):
        # Through a gradient-free numpy call, so the trace keeps the mask as a guard
        # and a replay with new values notices when it changes.
        condition = np.not_equal(condition, 0)
    if x is None and y is None:
        return np.nonzero(condition)
    return prim(condition, x, y)


defprimitive(
    "where", lambda cond, x, y: np.where(cond, x, y), display="where({cond}, {x}, {y})",
    category=ARITHMETIC, numpy={np.where: _where_route},
    grads={"cond": None,
           "x": (lambda g, out, cond, x, y: g * np.asarray(cond, dtype=bool), "[{cond}]"),
           "y": (lambda g, out, cond, x, y: g * ~np.asarray(cond, dtype=bool), "[not {cond}]")},
    sample=_where_sample,
    doc="np.where(cond, x, y): picks x where cond holds, else y",
)


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


def _clip_shares(x, lo, hi):
    """The shares of x, lo and hi in ``np.clip(x, lo, hi) = minimum(maximum(x, lo), hi)``:
    the chain rule through that composition, each tie shared equally, except that x gets
    nothing where lo ≥ hi (the output is hi, or lo = hi, whatever x is): at x = lo = hi
    x's share of the inner tie goes to lo.  ``None`` for a missing bound."""
    if lo is None:
        inner_x, inner_lo, inner = 1.0, None, x
    else:
        inner = np.maximum(plain_value(x), plain_value(lo))
        inner_x, inner_lo = winner_share(x, lo), winner_share(lo, x)
    if hi is None:
        return inner_x, inner_lo, None
    through, share_hi = winner_share(hi, inner), winner_share(inner, hi)
    if lo is not None:
        constant = np.greater_equal(lo, hi)
        if np.any(constant):
            inner_lo = np.where(constant, 1.0, inner_lo)
            inner_x = np.where(constant, 0.0, inner_x)
    return through * inner_x, None if lo is None else through * inner_lo, share_hi


def _clip_x_vjp(g, out, x, lo, hi):
    # 1 strictly inside, ½ on a bound (x ties with it), 0 outside or where lo ≥ hi.
    if lo is None and hi is None:
        return g
    if (type(x) is np.ndarray and isinstance(lo, (float, int)) and isinstance(hi, (float, int))
            and lo < hi and not is_traced(g)):
        # The usual call, np.clip(x, 0.3, 0.7), without its rare cases: two comparisons,
        # and two more to rule out a tie with a bound.
        inside = (x > lo) & (x < hi)
        if not (np.any(x == lo) or np.any(x == hi)):
            return g * inside
    return g * _clip_shares(x, lo, hi)[0]


def _clip_bound_vjp(lower):
    def vjp(g, out, x, lo, hi):
        return g * _clip_shares(x, lo, hi)[1 if lower else 2]
    return vjp


def _clip_kink(x, lo, hi):
    gaps = [np.inf]
    for bound in (lo, hi):
        if bound is not None:
            gaps.append(float(np.min(np.abs(np.subtract(x, bound)))))
    if lo is not None and hi is not None:  # lo = hi: clip's value switches between them
        gaps.append(float(np.min(np.abs(np.subtract(lo, hi)))))
    return min(gaps)


def _clip_sample(rng):
    shape = tuple(rng.integers(1, 4, size=rng.integers(0, 3)))
    lo, hi = -0.5 + 0.1 * rng.normal(), 0.5 + 0.1 * rng.normal()
    if rng.integers(0, 4) == 0:  # lo > hi: numpy gives hi everywhere
        lo, hi = hi, lo
    return (rng.normal(size=shape), lo, hi), {}


def _clip_route(prim, a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    reject_arguments("np.clip", out=out, **kwargs)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return prim(a, lo, hi)


defprimitive(
    "clip", _clip, display="clip({x}, {lo}, {hi})", category=ARITHMETIC,
    numpy={np.clip: _clip_route},
    grads={"x": (_clip_x_vjp, "[{lo} < {x} < {hi}] (½ on a bound)"),
           "lo": (_clip_bound_vjp(True), "[{x} < {lo} < {hi}] (½ on a tie)"),
           "hi": (_clip_bound_vjp(False), "[max({x}, {lo}) > {hi}] (½ on a tie)")},
    kink=_clip_kink, sample=_clip_sample,
    doc="np.clip(x, lo, hi) = minimum(maximum(x, lo), hi): gradient flows to x inside the "
        "bounds, to a bound outside (½ each on a tie); to hi alone where lo > hi",
)

