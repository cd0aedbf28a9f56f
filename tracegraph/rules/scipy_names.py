"""The scipy functions :mod:`tracegraph.scipy` mirrors, by name (no scipy import here).

The core names the tracegraph replacement when a real scipy function meets a
traced value (``scipy.stats.norm.logpdf`` → ``tracegraph.scipy.stats.norm.logpdf``);
``tests/test_scipy.py`` checks that each name here exists in the namespace.

Example:
    >>> MIRRORED["scipy.stats.norm.logpdf"]
    'tracegraph.scipy.stats.norm.logpdf'
"""

from __future__ import annotations

SPECIAL_FUNCTIONS = ("logsumexp", "softmax", "log_softmax", "polygamma")
SIGNAL_FUNCTIONS = ("convolve", "correlate")
LINALG_FUNCTIONS = ("solve_triangular", "solve_sylvester", "sqrtm")
DISTRIBUTIONS = {
    "norm": ("pdf", "logpdf", "cdf", "logcdf"),
    "t": ("pdf", "logpdf", "cdf", "logcdf"),
    "gamma": ("pdf", "logpdf", "cdf", "logcdf"),
    "beta": ("pdf", "logpdf", "cdf", "logcdf"),
    "chi2": ("pdf", "logpdf", "cdf", "logcdf"),
    "poisson": ("pmf", "logpmf", "cdf"),
    "multivariate_normal": ("pdf", "logpdf"),
    "dirichlet": ("pdf", "logpdf"),
}

MIRRORED: dict[str, str] = {
    **{f"scipy.special.{name}": f"tracegraph.scipy.special.{name}" for name in SPECIAL_FUNCTIONS},
    **{f"scipy.signal.{name}": f"tracegraph.scipy.signal.{name}" for name in SIGNAL_FUNCTIONS},
    **{f"scipy.linalg.{name}": f"tracegraph.scipy.linalg.{name}" for name in LINALG_FUNCTIONS},
    **{f"scipy.stats.{dist}.{method}": f"tracegraph.scipy.stats.{dist}.{method}"
       for dist, methods in DISTRIBUTIONS.items() for method in methods},
}
"""scipy's function, as the user writes it -> the tracegraph function that traces it."""

MIRROR_CALLS: dict[str, tuple[str, ...]] = {
    **{name: (f"tracegraph.scipy.special.{name}",) for name in SPECIAL_FUNCTIONS},
    "convolve": tuple(f"tracegraph.scipy.signal.{name}"
                      for name in ("convolve", "correlate", "fftconvolve")),
    **{name: (f"tracegraph.scipy.linalg.{name}",) for name in LINALG_FUNCTIONS},
    **{f"{dist}.{method}": (f"tracegraph.scipy.stats.{dist}.{method}",)
       for dist, methods in DISTRIBUTIONS.items() for method in methods},
}
"""Primitive name -> the :mod:`tracegraph.scipy` functions that record it (for listings)."""
