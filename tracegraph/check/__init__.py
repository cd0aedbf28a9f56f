"""Checking derivatives: grade hand-derived claims, verify rules by finite differences.

Two questions, two tools:

* **Is my derivation right, and if not, which step is wrong?**
  :func:`check` grades *claims* - hand-derived derivatives such as
  ``dS/dG = S·(1 − S)`` - against the true derivative read off the trace
  (the total derivative through every path, other inputs held fixed).  Each
  claim gets a verdict (``exact``, ``close``, ``wrong``, ``shape mismatch``,
  ``no path``, ``unknown name``, ``not differentiable here``, ``not a
  number``); a wrong end-to-end claim such as ``dLoss/dw1`` is traced back
  along the chain rule to the first step the user got wrong.
  :meth:`CheckReport.marks` feeds the diagram, so that step is highlighted.
* **Are the derivative rules right?**  :func:`numeric_check` compares every
  input's gradient (and optionally every edge's local derivative) with
  central finite differences, by *replaying the record*: each recorded
  operation is recomputed on perturbed values, so it works for any trace,
  including user primitives, without the user's function.  Points where the
  function is not differentiable (``abs`` at 0, ``relu`` at 0, ties in
  ``max``) are reported as such, not as errors.

The parts: :mod:`.claims` grades claims and :mod:`.chain` explains wrong
chains, :mod:`.numeric` compares with finite differences, :mod:`.report`
tabulates both; :mod:`.results` holds what they find and :mod:`.subject`
what they read of a trace (its record and graph: checking sits below the
``Trace`` facade and never imports it).

Example:
    >>> import tracegraph as tg
    >>> from tracegraph.check import check
    >>> with tg.Tracer() as tr:
    ...     G = tr.input("G", 0.5)
    ...     S = tg.name(tg.sigmoid(G), "S")
    ...     t = tr.finish(tg.name((1.0 - S) ** 2, "Loss"))
    >>> s = t["S"].value
    >>> report = check(t, {"dS/dG": s * (1 - s), "dLoss/dS": 2 * (1 - s)})
    >>> [(r.name, r.verdict) for r in report.results]
    [('dS/dG', 'exact'), ('dLoss/dS', 'wrong')]
    >>> report.outcome
    'failed'
"""

from ..verdicts import VERDICTS
from .claims import check, check_script
from .numeric import numeric_check, numeric_check_primitive
from .report import CLAIM_COLUMNS, NUMERIC_COLUMNS, CheckReport, NumericReport, merge_marks
from .results import Chain, ChainPath, ChainStep, ClaimResult, NumericResult

__all__ = [
    "CLAIM_COLUMNS", "Chain", "ChainPath", "ChainStep", "CheckReport", "ClaimResult",
    "NUMERIC_COLUMNS", "NumericReport", "NumericResult", "VERDICTS", "check", "check_script",
    "merge_marks", "numeric_check", "numeric_check_primitive",
]
