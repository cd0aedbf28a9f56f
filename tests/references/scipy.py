"""References for the scipy rules (scipy.special, scipy.stats) and the convolution, written
with autograd.numpy and autograd.scipy.special.

The distributions are written from their textbook log densities (standardised with
z = (x − loc)/scale), their cdfs through the regularised incomplete gamma and beta
functions, so autograd derives every partial independently of tracegraph's scores.
"""

from __future__ import annotations

import autograd.numpy as anp
import autograd.scipy.special as asp
import numpy as np
from autograd.scipy.stats import multivariate_normal as amvn

_LOG_2PI = np.log(2.0 * np.pi)


def _plain(x):
    return np.asarray(getattr(x, "_value", x))


def _select(mask, a, b):
    mask = np.asarray(mask, dtype=float)
    return mask * a + (1.0 - mask) * b


# --------------------------------------------------------------------------- scipy.special

def _ndtr(x):
    return 0.5 * asp.erfc(-x / np.sqrt(2.0))


def _i1(x):
    # autograd's own i1 rule uses scipy's I₂, which is NaN for tiny x: the series there.
    small = np.abs(_plain(x)) < 1e-4
    series = x / 2.0 + x ** 3 / 16.0
    if small.ndim == 0:
        return series if small else asp.i1(x)
    return _select(small, series, asp.i1(anp.where(small, 1.0, x)))


SPECIAL = {
    "erf": asp.erf, "erfc": asp.erfc, "erfinv": asp.erfinv, "erfcinv": asp.erfcinv,
    "erfcx": lambda x: anp.exp(x * x) * asp.erfc(x),
    "ndtr": _ndtr, "log_ndtr": lambda x: anp.log(_ndtr(x)),
    "ndtri": lambda p: np.sqrt(2.0) * asp.erfinv(2.0 * p - 1.0),
    "polygamma": lambda x, n=0: asp.polygamma(n, x),
    "gamma": asp.gamma, "gammaln": asp.gammaln, "digamma": asp.digamma,
    "beta": asp.beta, "betaln": asp.betaln,
    "gammainc": asp.gammainc, "gammaincc": asp.gammaincc, "betainc": asp.betainc,
    "logit": asp.logit, "log_expit": lambda x: -anp.logaddexp(0.0, -x),
    "xlogy": lambda x, y: x * anp.log(y), "xlog1py": lambda x, y: x * anp.log1p(y),
    "iv": asp.iv, "ive": asp.ive, "i0": asp.i0, "i1": _i1,
    "i0e": lambda x: asp.i0(x) * anp.exp(-anp.abs(x)),
    "i1e": lambda x: asp.i1(x) * anp.exp(-anp.abs(x)),
}


# --------------------------------------------------------------------------- scipy.stats


def _norm_log(z):
    return -0.5 * z * z - 0.5 * _LOG_2PI


def _t_log(z, df):
    return (asp.gammaln((df + 1.0) / 2.0) - asp.gammaln(df / 2.0) - 0.5 * anp.log(df * np.pi)
            - (df + 1.0) / 2.0 * anp.log1p(z * z / df))


def _gamma_log(z, a):
    return (a - 1.0) * anp.log(z) - z - asp.gammaln(a)


def _beta_log(z, a, b):
    return (a - 1.0) * anp.log(z) + (b - 1.0) * anp.log1p(-z) - asp.betaln(a, b)


def _chi2_log(z, df):
    return (df / 2.0 - 1.0) * anp.log(z) - z / 2.0 - df / 2.0 * np.log(2.0) - asp.gammaln(df / 2.0)


def _t_cdf(z, df):
    # Three forms, each where it is accurate: the tangent at 0, the central form
    # ½ + ½·sign(z)·I(z²/(ν + z²); ½, ν/2), and the tail ½·I(ν/(ν + z²); ν/2, ½).
    # Each branch gets a harmless stand-in for z elsewhere, so no NaN leaks into the mix.
    value = _plain(z)
    near = (np.abs(value) < 1e-6) * 1.0
    far = (np.abs(value) > 1.0) * 1.0
    middle = (1.0 - near) * (1.0 - far)
    z_mid = z * middle + (1.0 - middle) * 0.5
    z_far = z * far + (1.0 - far) * 2.0
    density0 = anp.exp(asp.gammaln((df + 1.0) / 2.0) - asp.gammaln(df / 2.0)
                       - 0.5 * anp.log(df * np.pi))
    central = 0.5 + 0.5 * np.sign(_plain(z_mid)) * asp.betainc(
        0.5, df / 2.0, z_mid * z_mid / (df + z_mid * z_mid))
    tail = 0.5 * asp.betainc(df / 2.0, 0.5, df / (df + z_far * z_far))
    outer = _select(_plain(z_far) > 0, 1.0 - tail, tail)
    return near * (0.5 + density0 * z) + middle * central + far * outer


STANDARD = {  # name: (log density of the standard form, cdf of the standard form)
    "norm": (_norm_log, _ndtr),
    "t": (_t_log, _t_cdf),
    "gamma": (_gamma_log, lambda z, a: asp.gammainc(a, z)),
    "beta": (_beta_log, lambda z, a, b: asp.betainc(a, b, z)),
    "chi2": (_chi2_log, lambda z, df: asp.gammainc(df / 2.0, z / 2.0)),
}


def _family(name):
    log_density, cdf = STANDARD[name]

    def logpdf(x, *rest):
        *shapes, loc, scale = rest
        return log_density((x - loc) / scale, *shapes) - anp.log(scale)

    def cumulative(x, *rest):
        *shapes, loc, scale = rest
        return cdf((x - loc) / scale, *shapes)

    return {f"{name}.logpdf": logpdf, f"{name}.pdf": lambda *a: anp.exp(logpdf(*a)),
            f"{name}.cdf": cumulative, f"{name}.logcdf": lambda *a: anp.log(cumulative(*a))}


def _poisson_logpmf(k, mu, loc):
    n = k - loc
    return n * anp.log(mu) - mu - asp.gammaln(n + 1.0)


def _dirichlet_logpdf(x, alpha):
    a = alpha if np.ndim(_plain(x)) == 1 else anp.reshape(alpha, (-1, 1))
    norm = asp.gammaln(anp.sum(alpha)) - anp.sum(asp.gammaln(alpha))
    return norm + anp.sum((a - 1.0) * anp.log(x), axis=0)


def _lower_read(cov):
    return anp.tril(cov) + anp.transpose(anp.tril(cov, -1))


STATS = {
    **{key: f for name in STANDARD for key, f in _family(name).items()},
    "poisson.logpmf": _poisson_logpmf,
    "poisson.pmf": lambda k, mu, loc: anp.exp(_poisson_logpmf(k, mu, loc)),
    "poisson.cdf": lambda k, mu, loc: asp.gammaincc(np.floor(k - loc) + 1.0, mu),
    # scipy squeezes a stack of one point to a scalar; the rule keeps the stack's shape.
    # scipy reads cov's lower triangle (autograd's reads the whole matrix).
    "multivariate_normal.logpdf": lambda x, mean, cov: anp.reshape(
        amvn.logpdf(x, mean, _lower_read(cov)), np.shape(_plain(x))[:-1]),
    "multivariate_normal.pdf": lambda x, mean, cov: anp.reshape(
        amvn.pdf(x, mean, _lower_read(cov)), np.shape(_plain(x))[:-1]),
    "dirichlet.logpdf": _dirichlet_logpdf,
    "dirichlet.pdf": lambda x, alpha: anp.exp(_dirichlet_logpdf(x, alpha)),
}


# --------------------------------------------------------------------------- convolution


def _placed(a, offset, shape):
    """``a`` inside zeros of ``shape``, starting at ``offset`` (built by concatenation)."""
    for axis, (start, size) in enumerate(zip(offset, shape)):
        current = list(np.shape(_plain(a)))
        before, after = list(current), list(current)
        before[axis], after[axis] = start, size - start - current[axis]
        a = anp.concatenate([np.zeros(before), a, np.zeros(after)], axis=axis)
    return a


def _convolve(in1, in2, mode="full"):
    shape1, shape2 = np.shape(_plain(in1)), np.shape(_plain(in2))
    full = tuple(a + b - 1 for a, b in zip(shape1, shape2))
    total = 0.0
    for index in np.ndindex(shape2):
        total = total + _placed(in1 * in2[index], index, full)
    if mode == "full":
        return total
    if mode == "same":
        start = tuple((b - 1) // 2 for b in shape2)
        size = shape1
    else:
        start = tuple(min(a, b) - 1 for a, b in zip(shape1, shape2))
        size = tuple(abs(a - b) + 1 for a, b in zip(shape1, shape2))
    return total[tuple(slice(s, s + n) for s, n in zip(start, size))]


REFERENCES = {**SPECIAL, **STATS, "convolve": _convolve}
