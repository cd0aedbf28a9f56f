"""scipy.stats: pdf, logpdf, cdf, logcdf of norm, t, gamma, beta, chi2; poisson's pmf,
logpmf, cdf; multivariate_normal's and dirichlet's pdf and logpdf.

scipy.stats converts its arguments with ``np.asarray``, so these rules are
reached through :mod:`tracegraph.scipy.stats`, whose functions mirror
scipy's names and signatures.  One row per (distribution, method); the
continuous families share their derivation: with ``z = (x − loc)/scale`` and
the standardised score ``s(z) = ∂ ln f/∂z``,

    ∂ ln f/∂x = s/scale,  ∂ ln f/∂loc = −s/scale,  ∂ ln f/∂scale = −(z·s + 1)/scale,

so each family only declares ``s`` and the derivatives in its shape
parameters.  The cdf rules differentiate in x, loc and scale; the derivative
of a cdf in a shape parameter (t's df, gamma's a ...) has no closed form and
is refused when that parameter is traced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special as sc
import scipy.stats as st

from ..core import is_traced, plain_value
from ..extend import defprimitive
from ..formula import Symbols

STATS = "scipy.stats"


@dataclass(frozen=True)
class Family:
    """A location-scale family of scipy.stats and its standardised score.

    Example:
        >>> gamma = next(family for family in FAMILIES if family.name == "gamma")
        >>> gamma.shapes, gamma.score(1.0, 3.0), gamma.score_text.format(a="a")
        (('a',), 1.0, '(a − 1)/z − 1')
        >>> slope = (st.gamma.logpdf(1 + 1e-6, 3.0) - st.gamma.logpdf(1 - 1e-6, 3.0)) / 2e-6
        >>> round(float(slope), 6)                      # scipy's ∂ ln f/∂z at z = 1 agrees
        1.0
    """

    name: str
    shapes: tuple[str, ...]
    score: Callable[..., object]           # s(z, *shapes) = ∂ ln f_std/∂z
    score_text: str                        # s written with z and the shapes' labels
    shape_scores: tuple[Callable[..., object], ...]
    shape_texts: tuple[str, ...]
    domain: dict


def _t_df_score(z, df):
    zz = z * z
    return 0.5 * (sc.digamma((df + 1.0) / 2.0) - sc.digamma(df / 2.0) - 1.0 / df
                  - np.log1p(zz / df) + (df + 1.0) * zz / (df * (df + zz)))


FAMILIES = (
    Family("norm", (), lambda z: -z, "−z", (), (),
           {"x": (-2.0, 2.0), "loc": (-1.0, 1.0), "scale": (0.5, 2.0)}),
    Family("t", ("df",), lambda z, df: -(df + 1.0) * z / (df + z * z),
           "−({df} + 1)·z/({df} + z²)", (_t_df_score,),
           ("½[ψ(({df} + 1)/2) − ψ({df}/2) − 1/{df} − ln(1 + z²/{df}) "
            "+ ({df} + 1)z²/({df}({df} + z²))]",),
           # scipy's t.cdf at exactly df = 1 (Cauchy) is accurate to ~1e-11 only: too coarse
           # for the finite-difference checks, so the sampled df starts above it.
           {"x": (-2.0, 2.0), "df": (1.2, 6.0), "loc": (-1.0, 1.0), "scale": (0.5, 2.0)}),
    Family("gamma", ("a",), lambda z, a: (a - 1.0) / z - 1.0, "({a} − 1)/z − 1",
           (lambda z, a: np.log(z) - sc.digamma(a),), ("ln z − ψ({a})",),
           {"x": (0.3, 4.0), "a": (0.5, 4.0), "loc": (-0.1, 0.1), "scale": (0.5, 2.0)}),
    Family("beta", ("a", "b"), lambda z, a, b: (a - 1.0) / z - (b - 1.0) / (1.0 - z),
           "({a} − 1)/z − ({b} − 1)/(1 − z)",
           (lambda z, a, b: np.log(z) - sc.digamma(a) + sc.digamma(a + b),
            lambda z, a, b: np.log1p(-z) - sc.digamma(b) + sc.digamma(a + b)),
           ("ln z − ψ({a}) + ψ({a} + {b})", "ln(1 − z) − ψ({b}) + ψ({a} + {b})"),
           {"x": (0.1, 0.9), "a": (0.5, 4.0), "b": (0.5, 4.0), "loc": (-0.05, 0.05),
            "scale": (1.1, 1.3)}),
    Family("chi2", ("df",), lambda z, df: (df / 2.0 - 1.0) / z - 0.5, "({df}/2 − 1)/z − ½",
           (lambda z, df: 0.5 * (np.log(z) - np.log(2.0) - sc.digamma(df / 2.0)),),
           ("½(ln z − ln 2 − ψ({df}/2))",),
           {"x": (0.3, 4.0), "df": (1.0, 6.0), "loc": (-0.1, 0.1), "scale": (0.5, 2.0)}),
)

PRIMITIVES: dict[str, object] = {}
"""``"norm.logpdf"`` -> its primitive (what :mod:`tracegraph.scipy.stats` records)."""


def _split(family: Family, args: tuple):
    """(x, shapes, loc, scale) from a primitive's inputs."""
    count = len(family.shapes)
    return args[0], args[1:1 + count], args[1 + count], args[2 + count]


def _standard(args, family):
    x, shapes, loc, scale = _split(family, args)
    return (x - loc) / scale, shapes, scale


def _log_density_vjp(family: Family, position: int, times_out: bool):
    """VJP of logpdf (or pdf, ``times_out``) for the input at ``position``."""
    count = len(family.shapes)

    def vjp(g, out, *args):
        z, shapes, scale = _standard(args, family)
        upstream = g * out if times_out else g
        if 1 <= position <= count:
            return upstream * family.shape_scores[position - 1](z, *shapes)
        score = family.score(z, *shapes)
        if position == 0:
            return upstream * score / scale
        if position == count + 1:
            return -upstream * score / scale
        return -upstream * (z * score + 1.0) / scale
    return vjp


def _density_formulas(family: Family, times_out: bool):
    """Formulas for (x, shapes..., loc, scale), written with the score s and z."""
    def text(template: str, *, score: bool) -> Callable[[Symbols], str]:
        def render(s: Symbols) -> str:
            labels = {k: str(v) for k, v in s.names.items()}
            body = template.format_map(labels)
            if times_out:
                sign, body = ("−", body[1:]) if body.startswith("−") else ("", body)
                body = f"{sign}{s['out']:p}·{body}"
            where = [f"s = {family.score_text.format_map(labels)}"] if score else []
            where.append(f"z = ({s['x']} − {s['loc']:p})/{s['scale']:p}")
            return f"{body}, " + ", ".join(where)
        return render
    if family.score_text == "−z":  # the normal: s = −z, written out
        location = [text("−z/{scale}", score=False), text("z/{scale}", score=False),
                    text("(z² − 1)/{scale}", score=False)]
    else:
        location = [text("s/{scale}", score=True), text("−s/{scale}", score=True),
                    text("−(z·s + 1)/{scale}", score=True)]
    return ([location[0]] + [text(t, score=False) for t in family.shape_texts]
            + location[1:])


def _cdf_vjp(family: Family, position: int, log: bool):
    count = len(family.shapes)

    def vjp(g, out, *args):
        z, shapes, scale = _standard(args, family)
        if log:  # pdf/cdf, computed as exp(logpdf − logcdf) so tails do not underflow
            slope = np.exp(PRIMITIVES[f"{family.name}.logpdf"](*args) - out)
        else:
            slope = PRIMITIVES[f"{family.name}.pdf"](*args)
        if position == 0:
            return g * slope
        if position == count + 1:
            return -g * slope
        return -g * slope * z
    return vjp


def _argnames(family: Family) -> tuple[str, ...]:
    return ("x",) + family.shapes + ("loc", "scale")


def _display(family: Family, method: str):
    def display(s: Symbols) -> str:
        inner = ", ".join(str(s.names[a]) for a in _argnames(family))
        return f"{family.name}.{method}({inner})"
    return display


def _declare_family(family: Family) -> None:
    dist = getattr(st, family.name)
    names = _argnames(family)
    for method, times_out in (("logpdf", False), ("pdf", True)):
        formulas = _density_formulas(family, times_out)
        PRIMITIVES[f"{family.name}.{method}"] = defprimitive(
            f"{family.name}.{method}", getattr(dist, method), category=STATS,
            display=_display(family, method),
            grads={name: (_log_density_vjp(family, k, times_out), formulas[k])
                   for k, name in enumerate(names)},
            domain=family.domain,
            doc=f"scipy.stats.{family.name}.{method}({', '.join(names)})",
        )
    for method, log in (("cdf", False), ("logcdf", True)):
        slope = (f"exp({family.name}.logpdf − {family.name}.logcdf)" if log
                 else f"{family.name}.pdf")
        grads = {"x": (_cdf_vjp(family, 0, log), slope)}
        grads.update({shape: None for shape in family.shapes})
        grads["loc"] = (_cdf_vjp(family, len(family.shapes) + 1, log), f"−{slope}")
        grads["scale"] = (_cdf_vjp(family, len(family.shapes) + 2, log),
                          f"−{slope}·({{x}} − {{loc}})/{{scale:p}}")
        PRIMITIVES[f"{family.name}.{method}"] = defprimitive(
            f"{family.name}.{method}", getattr(dist, method), category=STATS,
            display=_display(family, method), grads=grads, domain=family.domain,
            doc=f"scipy.stats.{family.name}.{method}({', '.join(names)}): derivative in x, "
                "loc, scale" + (f" ({', '.join(family.shapes)} must be plain)"
                                if family.shapes else ""),
        )


for _family in FAMILIES:
    _declare_family(_family)


# --------------------------------------------------------------------------- poisson


def _poisson_score(k, mu, loc):
    """∂ ln P/∂mu = (k − loc)/mu − 1; at k = loc, mu = 0 (ln P = −mu there) it is −1,
    where the quotient is 0/0."""
    count = k - loc
    both = np.equal(count, 0) & np.equal(mu, 0)
    if np.any(both):
        mu = np.where(both, 1.0, mu)
    return count / mu - 1.0


def _sample_poisson(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    k = rng.integers(0, 6, size=shape).astype(float)
    return (k, rng.uniform(0.5, 4.0, size=shape[-1:]), 0.0), {}


PRIMITIVES["poisson.logpmf"] = defprimitive(
    "poisson.logpmf", st.poisson.logpmf, category=STATS,
    display="poisson.logpmf({k}, {mu}, {loc})",
    grads={"k": None, "mu": (lambda g, out, k, mu, loc: g * _poisson_score(k, mu, loc),
                             "({k} − {loc})/{mu:p} − 1"), "loc": None},
    sample=_sample_poisson, doc="scipy.stats.poisson.logpmf(k, mu, loc): derivative in mu",
)
PRIMITIVES["poisson.pmf"] = defprimitive(
    "poisson.pmf", st.poisson.pmf, category=STATS, display="poisson.pmf({k}, {mu}, {loc})",
    grads={"k": None, "mu": (lambda g, out, k, mu, loc: g * out * _poisson_score(k, mu, loc),
                             "{out:p}·(({k} − {loc})/{mu:p} − 1)"), "loc": None},
    sample=_sample_poisson, doc="scipy.stats.poisson.pmf(k, mu, loc): derivative in mu",
)
PRIMITIVES["poisson.cdf"] = defprimitive(
    "poisson.cdf", st.poisson.cdf, category=STATS, display="poisson.cdf({k}, {mu}, {loc})",
    grads={"k": None,
           "mu": (lambda g, out, k, mu, loc:
                  -g * PRIMITIVES["poisson.pmf"](np.floor(plain_value(k)), mu, loc),
                  "−poisson.pmf(⌊{k}⌋, {mu}, {loc})"),
           "loc": None},
    sample=_sample_poisson, doc="scipy.stats.poisson.cdf(k, mu, loc): derivative in mu",
)


# --------------------------------------------------------------------------- multivariate normal


def _lower_read(cov):
    """The symmetric matrix scipy reads from ``cov``: its lower triangle, mirrored (scipy
    factors cov with eigh(lower=True), so an entry above the diagonal is never read)."""
    return np.tril(cov) + np.swapaxes(np.tril(cov, -1), -1, -2)


def _mvn_logpdf(x, mean, cov):
    """ln N(x; mean, cov) along the last axis of x, for the matrix scipy reads (the lower
    triangle of cov)."""
    x = np.asarray(x, dtype=float)
    cov = _lower_read(cov)
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise ValueError("the input matrix must be positive semidefinite")
    residual = x - mean
    solved = np.linalg.solve(cov, np.reshape(residual, (-1, np.shape(cov)[0])).T).T
    quad = np.sum(np.reshape(residual, solved.shape) * solved, axis=-1)
    d = np.shape(cov)[0]
    result = -0.5 * (d * np.log(2.0 * np.pi) + logdet + quad)
    return np.reshape(result, np.shape(x)[:-1]) if np.ndim(x) > 1 else result[0]


def _mvn_pdf(x, mean, cov):
    return np.exp(_mvn_logpdf(x, mean, cov))


def _mvn_solved(x, mean, cov):
    residual = x - mean
    d = np.shape(plain_value(cov))[0]
    flat = np.reshape(residual, (-1, d))
    return np.transpose(np.linalg.solve(cov, np.transpose(flat)))


def _mvn_upstream(g, out, times_out, x):
    weight = g * out if times_out else g
    return np.reshape(weight, (-1, 1))


def _mvn_vjp(position: int, times_out: bool):
    # Σ = the lower triangle of cov, mirrored (what scipy reads): ∂/∂Σ is symmetric,
    # G = ½(Σ wₙ Σ⁻¹rₙrₙᵀΣ⁻¹ − Σ wₙ · Σ⁻¹), and an entry below the diagonal of cov stands
    # for both Σᵢⱼ and Σⱼᵢ (2G there), one above it for nothing (0).  Written with traced
    # operations, so its own derivatives (second order) are those of ln N too.
    def vjp(g, out, x, mean, cov):
        weight = _mvn_upstream(g, out, times_out, x)
        sigma = _lower_read(cov)
        solved = _mvn_solved(x, mean, sigma)                              # rows Σ⁻¹r
        if position < 2:
            grad = (-weight if position == 0 else weight) * solved
            return np.reshape(grad, np.shape(plain_value(x)))
        outer = np.transpose(solved) @ (weight * solved)           # Σ wₙ (Σ⁻¹rₙ)(Σ⁻¹rₙ)ᵀ
        half = 0.5 * (outer - np.sum(weight) * np.linalg.inv(sigma))
        return np.tril(half + np.transpose(half), -1) + half * np.eye(np.shape(half)[0])
    return vjp


def _sample_mvn(rng):
    d = int(rng.integers(1, 4))
    a = rng.normal(size=(d, d))
    cov = a @ a.T + d * np.eye(d)
    mean = rng.normal(size=d)
    x = rng.normal(size=(int(rng.integers(1, 4)), d)) if rng.integers(0, 2) else rng.normal(
        size=d)
    return (x, mean, cov), {}


for _method, _times_out, _impl in (("logpdf", False, _mvn_logpdf), ("pdf", True, _mvn_pdf)):
    _prefix = "{out:p}·" if _times_out else ""
    PRIMITIVES[f"multivariate_normal.{_method}"] = defprimitive(
        f"multivariate_normal.{_method}", _impl, category=STATS,
        display=f"multivariate_normal.{_method}({{x}}, {{mean}}, {{cov}})",
        grads={"x": (_mvn_vjp(0, _times_out), _prefix + "−{cov}⁻¹({x} − {mean})"),
               "mean": (_mvn_vjp(1, _times_out), _prefix + "{cov}⁻¹({x} − {mean})"),
               "cov": (_mvn_vjp(2, _times_out),
                       _prefix + "½(Σ⁻¹rrᵀΣ⁻¹ − Σ⁻¹) on the lower triangle (doubled below "
                       "the diagonal), Σ = {cov}'s lower triangle, r = {x} − {mean}")},
        sample=_sample_mvn,
        doc=f"scipy.stats.multivariate_normal.{_method}(x, mean, cov)",
    )


# --------------------------------------------------------------------------- dirichlet


def _dirichlet_logpdf(x, alpha):
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    a = alpha if x.ndim == 1 else alpha[:, np.newaxis]
    norm = sc.gammaln(np.sum(alpha)) - np.sum(sc.gammaln(alpha))
    return norm + np.sum((a - 1.0) * np.log(x), axis=0)


def _dirichlet_pdf(x, alpha):
    return np.exp(_dirichlet_logpdf(x, alpha))


def _columns(x, alpha):
    """alpha shaped to broadcast against x (quantiles run along x's first axis)."""
    return alpha if np.ndim(plain_value(x)) == 1 else np.reshape(alpha, (-1, 1))


def _dirichlet_vjp_x(times_out: bool):
    def vjp(g, out, x, alpha):
        weight = g * out if times_out else g
        return weight * (_columns(x, alpha) - 1.0) / x
    return vjp


def _dirichlet_vjp_alpha(times_out: bool):
    def vjp(g, out, x, alpha):
        weight = g * out if times_out else g
        shared = sc.digamma(np.sum(alpha)) - sc.digamma(alpha)
        if np.ndim(plain_value(x)) == 1:
            return weight * (shared + np.log(x))
        return np.sum(weight * (np.reshape(shared, (-1, 1)) + np.log(x)), axis=1)
    return vjp


def _sample_dirichlet(rng):
    k = int(rng.integers(2, 5))
    alpha = rng.uniform(0.5, 3.0, size=k)
    columns = int(rng.integers(1, 4))
    x = rng.dirichlet(alpha, size=columns).T if rng.integers(0, 2) else rng.dirichlet(alpha)
    x = np.clip(x, 0.02, None)
    return (x / np.sum(x, axis=0), alpha), {}


for _method, _times_out, _impl in (("logpdf", False, _dirichlet_logpdf),
                                   ("pdf", True, _dirichlet_pdf)):
    _prefix = "{out:p}·" if _times_out else ""
    PRIMITIVES[f"dirichlet.{_method}"] = defprimitive(
        f"dirichlet.{_method}", _impl, category=STATS,
        display=f"dirichlet.{_method}({{x}}, {{alpha}})",
        grads={"x": (_dirichlet_vjp_x(_times_out), _prefix + "({alpha} − 1)/{x:p}"),
               "alpha": (_dirichlet_vjp_alpha(_times_out),
                         _prefix + "ψ(Σ{alpha}) − ψ({alpha}) + ln {x:p}")},
        sample=_sample_dirichlet,
        doc=f"scipy.stats.dirichlet.{_method}(x, alpha) (quantiles along x's first axis)",
    )
