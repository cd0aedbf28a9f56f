"""scipy, traced: ``tracegraph.scipy.special``, ``.stats``, ``.signal`` and ``.linalg``
mirror scipy's names and signatures for the functions that do not reach tracegraph by
themselves.

scipy.special's ufuncs (``erf``, ``gammaln``, ``expit`` ...) dispatch through
numpy's protocols, so ``scipy.special.erf(x)`` traces as it is written.  The
rest of scipy converts its arguments with ``np.asarray``, which tracegraph
refuses (the trace would silently lose them).  An expression file run by
``tracegraph`` (or the Sphinx directive) gets the mirrors for its own ``import
scipy...`` lines, so it traces as written; in a library call (``tg.trace``), import
the mirror::

    from tracegraph.scipy import stats, special, signal, linalg
    stats.norm.logpdf(x, mu, sigma)        # same call as scipy.stats.norm.logpdf
    special.logsumexp(a, axis=1)
    signal.convolve(image, kernel, mode="same")
    linalg.solve_triangular(L, b, lower=True)

On plain values each function is scipy's own; on traced values it records one
node with the derivative rule (:mod:`tracegraph.rules.scipy_stats` ...).  When
the real scipy function meets a traced value, the error names the mirror.
scipy is never imported by ``import tracegraph``; importing this package
needs it.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.scipy import stats
    >>> t = tg.trace(lambda mu: stats.norm.logpdf(1.5, mu, 1.0), mu=1.0)
    >>> round(t.grads["mu"], 6)
    0.5
"""

__all__ = ["linalg", "signal", "special", "stats"]
