"""``scipy.stats`` for traced values: norm, t, gamma, beta, chi2 (pdf, logpdf, cdf, logcdf),
poisson (pmf, logpmf, cdf), multivariate_normal and dirichlet (pdf, logpdf).

Each distribution takes scipy's arguments (shape parameters positionally or by
name, ``loc`` and ``scale``) and can be frozen (``norm(mu, sigma).logpdf(x)``).
On plain values every method is scipy's own; on traced values it records one
node (:mod:`tracegraph.rules.scipy_stats`).  Other attributes (``rvs``,
``mean``, ``ppf`` ...) are scipy's, for plain values.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.scipy import stats
    >>> X = np.array([0.5, 1.5, 2.5])
    >>> nll = lambda mu, sigma: -np.sum(stats.norm.logpdf(X, mu, sigma))
    >>> g = tg.grad(nll)(mu=1.0, sigma=1.0)
    >>> round(g["mu"], 6), round(g["sigma"], 6)
    (-1.5, 0.25)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats as _scipy_stats

from ..errors import UnsupportedOperationError
from ..rules.arguments import has_traced, plain_contents
from ..extend import refuse_traced
from ..rules.scipy_stats import FAMILIES, PRIMITIVES, Family

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]


class _Scipy:
    """Forwards every other attribute to the scipy distribution (for plain values), and
    freezes: ``norm(mu, sigma)``, ``poisson(mu)``, ``dirichlet(alpha)`` ..."""

    _dist: Any
    name: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dist, name)

    def __call__(self, *args: Any, **kwds: Any) -> Frozen:
        """Freeze the parameters: ``norm(mu, sigma).logpdf(x)``, ``poisson(mu).pmf(k)``.

        Example:
            >>> import tracegraph as tg
            >>> tg.trace(lambda mu: norm(mu, 2.0).logpdf(1.0), mu=1.0).grads["mu"]
            0.0
            >>> round(float(poisson(2.5).pmf(2)), 6)
            0.256516
        """
        return Frozen(self, args, kwds)


class LocationScale(_Scipy):
    """A continuous scipy.stats family (norm, t, gamma, beta, chi2) that also traces.

    Example:
        >>> import tracegraph as tg, scipy.stats as st
        >>> r = tg.trace(lambda scale: gamma.logpdf(2.0, 3.0, scale=scale), scale=1.5)
        >>> round(r.value, 6), round(float(st.gamma.logpdf(2.0, 3.0, scale=1.5)), 6)
        (-1.856581, -1.856581)
        >>> round(r.grads["scale"], 6)                  # (x/scale − a)/scale
        -1.111111
    """

    def __init__(self, family: Family) -> None:
        self._family = family
        self._dist = getattr(_scipy_stats, family.name)
        self.name = family.name

    def __repr__(self) -> str:
        return f"<tracegraph.scipy.stats.{self.name}>"

    def _arguments(self, x: Any, args: tuple, kwds: dict) -> list[Any]:
        names = self._family.shapes + ("loc", "scale")
        if len(args) > len(names):
            raise TypeError(f"{self.name}: too many arguments")
        values = dict(zip(names, args))
        for key, value in kwds.items():
            if key not in names:
                raise TypeError(f"{self.name}: unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{self.name}: got multiple values for argument {key!r}")
            values[key] = value
        missing = [s for s in self._family.shapes if s not in values]
        if missing:
            raise TypeError(f"{self.name}: missing shape parameter(s) {', '.join(missing)}")
        return [x] + [values[s] for s in self._family.shapes] + [values.get("loc", 0.0),
                                                                 values.get("scale", 1.0)]

    def _call(self, method: str, x: Any, args: tuple, kwds: dict) -> Any:
        full = self._arguments(x, args, kwds)
        if not has_traced(*full):
            return getattr(self._dist, method)(*full)
        if method in ("cdf", "logcdf"):
            for name, value in zip(self._family.shapes, full[1:]):
                refuse_traced(f"scipy.stats.{self.name}.{method}", name, value)
        return PRIMITIVES[f"{self.name}.{method}"](*full)

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The density, as ``scipy.stats.<family>.pdf(x, *shapes, loc=0, scale=1)``.

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda x: norm.pdf(x), x=1.0).grads["x"], 6)   # −x·φ(x)
            -0.241971
        """
        return self._call("pdf", x, args, kwds)

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The log density; the rule differentiates in x, every shape parameter, loc, scale.

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda df: t.logpdf(1.0, df), df=3.0).grads["df"], 6)
            0.049306
        """
        return self._call("logpdf", x, args, kwds)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The distribution function; differentiable in x, loc and scale (shapes plain).

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda x: norm.cdf(x), x=0.0).grads["x"], 6)
            0.398942
        """
        return self._call("cdf", x, args, kwds)

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The log of the distribution function, stable far into the lower tail.

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda x: norm.logcdf(x), x=-30.0).grads["x"], 4)
            30.0333
        """
        return self._call("logcdf", x, args, kwds)


class Frozen:
    """A distribution with its parameters fixed (traced or not), like scipy's frozen ones:
    the distribution's traced methods of the point (``pdf``, ``logpdf``, ``cdf``,
    ``logcdf``; poisson's ``pmf``, ``logpmf``, ``cdf``), and scipy's other methods (and
    those a family does not trace) on plain values.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> frozen = norm(0.0, 2.0)
        >>> float(frozen.std()), round(tg.trace(frozen.logpdf, x=2.0).grads["x"], 6)
        (2.0, -0.5)
        >>> tg.trace(lambda mu: poisson(mu).logpmf(3), mu=2.0).grads["mu"]
        0.5
        >>> round(float(dirichlet(np.ones(3)).pdf(np.ones(3) / 3)), 6)
        2.0
    """

    def __init__(self, dist: _Scipy, args: tuple, kwds: dict) -> None:
        self.dist, self.args, self.kwds = dist, args, kwds

    def __repr__(self) -> str:
        return f"<frozen tracegraph.scipy.stats.{self.dist.name}>"

    def _bound(self, method: str, point: Any) -> Any:
        traced = getattr(type(self.dist), method, None)
        if traced is None:  # scipy's frozen method (plain values), or its AttributeError
            return getattr(self._scipy_frozen(), method)(point)
        kwds = {k: v for k, v in self.kwds.items() if k != "seed"}  # seed: sampling only
        return traced(self.dist, point, *self.args, **kwds)

    def _scipy_frozen(self) -> Any:
        return self.dist._dist(*plain_contents(list(self.args)),
                               **plain_contents(dict(self.kwds)))

    def pdf(self, x: Any) -> Any:
        return self._bound("pdf", x)

    def logpdf(self, x: Any) -> Any:
        return self._bound("logpdf", x)

    def cdf(self, x: Any) -> Any:
        return self._bound("cdf", x)

    def logcdf(self, x: Any) -> Any:
        return self._bound("logcdf", x)

    def pmf(self, k: Any) -> Any:
        return self._bound("pmf", k)

    def logpmf(self, k: Any) -> Any:
        return self._bound("logpmf", k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scipy_frozen(), name)


norm, t, gamma, beta, chi2 = (LocationScale(family) for family in FAMILIES)


class Poisson(_Scipy):
    """``scipy.stats.poisson``: pmf, logpmf, cdf, differentiable in mu (k is a count).

    Example:
        >>> import numpy as np, tracegraph as tg, scipy.stats as st
        >>> K = [2, 0, 3, 1]
        >>> r = tg.trace(lambda mu: -np.sum(poisson.logpmf(K, mu)), mu=1.0)
        >>> round(r.value, 6), round(float(-st.poisson.logpmf(K, 1.0).sum()), 6)
        (6.484907, 6.484907)
        >>> r.grads["mu"]                               # n − Σk/mu
        -2.0
    """

    def __init__(self) -> None:
        self._dist = _scipy_stats.poisson
        self.name = "poisson"

    def _call(self, method: str, k: Any, mu: Any, loc: Any) -> Any:
        if not has_traced(k, mu, loc):
            return getattr(self._dist, method)(k, mu, loc)
        refuse_traced(f"scipy.stats.poisson.{method}", "k", k)
        refuse_traced(f"scipy.stats.poisson.{method}", "loc", loc)
        return PRIMITIVES[f"poisson.{method}"](k, mu, loc)

    def pmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """P(K = k) for K ~ Poisson(mu); ∂/∂mu = pmf·(k/mu − 1).

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda mu: poisson.pmf(2, mu), mu=2.0).grads["mu"], 6)
            0.0
        """
        return self._call("pmf", k, mu, loc)

    def logpmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """ln P(K = k); ∂/∂mu = k/mu − 1.

        Example:
            >>> import tracegraph as tg
            >>> tg.trace(lambda mu: poisson.logpmf(3, mu), mu=2.0).grads["mu"]
            0.5
        """
        return self._call("logpmf", k, mu, loc)

    def cdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """P(K ≤ k); ∂/∂mu = −pmf(⌊k⌋, mu).

        Example:
            >>> import tracegraph as tg
            >>> round(tg.trace(lambda mu: poisson.cdf(0, mu), mu=1.0).grads["mu"], 6)
            -0.367879
        """
        return self._call("cdf", k, mu, loc)


poisson = Poisson()


def _as_covariance(cov: Any, d: int) -> Any:
    ndim = np.ndim(plain_contents(cov))
    if ndim == 0:
        return cov * np.eye(d)
    if ndim == 1:
        return np.reshape(cov, (d, 1)) * np.eye(d)
    return cov


def _quantiles(x: Any, d: int) -> Any:
    """scipy's reading of x: one point of dimension d, or a stack of them (last axis)."""
    ndim = np.ndim(plain_contents(x))
    if ndim == 0:
        return np.reshape(x, (1, 1)) if d == 1 else x
    if ndim == 1 and d == 1:
        return np.reshape(x, (-1, 1))
    return x


class MultivariateNormal(_Scipy):
    """``scipy.stats.multivariate_normal``: pdf and logpdf, differentiable in x, mean, cov.

    Example:
        >>> import numpy as np, tracegraph as tg, scipy.stats as st
        >>> x, cov = np.array([1.0, 0.0]), np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> r = tg.trace(lambda m: multivariate_normal.logpdf(x, m, cov), m=np.zeros(2))
        >>> round(float(r.value), 6), round(float(st.multivariate_normal.logpdf(x, cov=cov)), 6)
        (-2.720517, -2.720517)
        >>> np.round(r.grads["m"], 6).tolist()         # cov⁻¹(x − m)
        [0.666667, -0.333333]
    """

    def __init__(self) -> None:
        self._dist = _scipy_stats.multivariate_normal
        self.name = "multivariate_normal"

    def _call(self, method: str, x: Any, mean: Any, cov: Any, allow_singular: bool) -> Any:
        if not has_traced(x, mean, cov):
            return getattr(self._dist, method)(x, mean, cov, allow_singular=allow_singular)
        if allow_singular:
            raise UnsupportedOperationError(
                f"scipy.stats.multivariate_normal.{method}(..., allow_singular=True)",
                reason="the pseudo-inverse of a singular covariance is not traced",
                hint="pass a positive definite cov")
        cov_value = np.asarray(plain_contents(cov), dtype=float)
        if mean is None:  # scipy's reading of the dimension
            d = 1 if cov_value.ndim == 0 else cov_value.shape[0]
        else:
            d = int(np.size(plain_contents(mean)))
        mean = np.zeros(d) if mean is None else np.reshape(mean, (d,))
        points = _quantiles(x, d)
        result = PRIMITIVES[f"multivariate_normal.{method}"](points, mean, _as_covariance(cov, d))
        squeezed = np.squeeze(np.empty(np.shape(plain_contents(result)))).shape
        return np.reshape(result, squeezed) if squeezed != np.shape(plain_contents(result)) \
            else result

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The density of N(mean, cov) at the points x (last axis).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> g = tg.trace(lambda m: multivariate_normal.pdf(np.zeros(2), m, np.eye(2)),
            ...              m=np.zeros(2)).grads["m"]
            >>> g.tolist()
            [0.0, 0.0]
        """
        return self._call("pdf", x, mean, cov, allow_singular)

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1,
               allow_singular: bool = False) -> Any:
        """ln N(x; mean, cov); ∂/∂x = −cov⁻¹(x − mean), ∂/∂cov = ½(Σ⁻¹rrᵀΣ⁻¹ − Σ⁻¹).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> g = tg.trace(lambda x: multivariate_normal.logpdf(x, np.zeros(2), 2 * np.eye(2)),
            ...              x=np.array([1.0, 2.0])).grads["x"]
            >>> g.tolist()
            [-0.5, -1.0]
        """
        return self._call("logpdf", x, mean, cov, allow_singular)


multivariate_normal = MultivariateNormal()


class Dirichlet(_Scipy):
    """``scipy.stats.dirichlet``: pdf and logpdf, differentiable in x and alpha.

    Example:
        >>> import numpy as np, tracegraph as tg, scipy.stats as st
        >>> x = np.array([0.2, 0.8])
        >>> r = tg.trace(lambda a: dirichlet.logpdf(x, a), a=np.array([2.0, 3.0]))
        >>> round(float(r.value), 6), round(float(st.dirichlet.logpdf(x, [2.0, 3.0])), 6)
        (0.429182, 0.429182)
        >>> np.round(r.grads["a"], 6).tolist()         # ψ(Σa) − ψ(a) + ln x
        [-0.526105, 0.36019]
    """

    def __init__(self) -> None:
        self._dist = _scipy_stats.dirichlet
        self.name = "dirichlet"

    def _call(self, method: str, x: Any, alpha: Any) -> Any:
        plain = getattr(self._dist, method)(plain_contents(x), plain_contents(alpha))
        if not has_traced(x, alpha):
            return plain  # scipy validated x (on the simplex) and alpha (positive)
        return PRIMITIVES[f"dirichlet.{method}"](x, alpha)

    def pdf(self, x: Any, alpha: Any) -> Any:
        """The Dirichlet density at x (quantiles along x's first axis).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> round(tg.trace(lambda a: dirichlet.pdf(np.array([0.5, 0.5]), a),
            ...                a=np.ones(2)).value, 6)
            1.0
        """
        return self._call("pdf", x, alpha)

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """ln Dir(x; alpha); ∂/∂alpha = ψ(Σalpha) − ψ(alpha) + ln x.

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> g = tg.trace(lambda a: dirichlet.logpdf(np.array([0.5, 0.5]), a),
            ...              a=np.ones(2)).grads["a"]
            >>> np.round(g, 6).tolist()
            [0.306853, 0.306853]
        """
        return self._call("logpdf", x, alpha)


dirichlet = Dirichlet()
