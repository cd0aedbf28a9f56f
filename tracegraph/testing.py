"""Assertions for test suites: hand-derived gradients, numeric checks, user rules.

A course can grade homework in its own tests, and a library can check the
derivative rules it registers, with failure messages that say which step is
wrong::

    from tracegraph.testing import assert_claims, check_primitive

    def test_homework():
        assert_claims("homework/neuron.py")        # every dY_dX claim in the file

    def test_my_rule():
        check_primitive(my_softplus)               # finite differences, like a built-in

Each helper raises ``AssertionError`` (so pytest shows the message as the
failure) and returns the report when everything holds.  pytest is not
needed to import or use this module.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: tg.name(x ** 2, "y"), x=3.0)
    >>> assert_claims(t, {"dy_dx": 6.0}).ok
    True
    >>> try:
    ...     assert_claims(t, {"dy_dx": 3.0})
    ... except AssertionError as err:
    ...     print(str(err).splitlines()[0])
    1 of 1 hand-derived derivatives is wrong; first wrong step: dy_dx: claimed 3, true dy/dx = 2·x = 6
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .check import (
    CheckReport,
    NumericReport,
    check,
    numeric_check,
    numeric_check_primitive,
)
from .numbers import format_number

if TYPE_CHECKING:
    from .trace import Trace

__all__ = ["assert_claims", "assert_gradients_numeric", "check_primitive"]

_WORST_SHOWN = 10


def assert_claims(subject: Any, claims: Mapping[Any, Any] | None = None, *,
                  rtol: float = 1e-6, atol: float = 1e-9,
                  accept_rounded: bool = True) -> CheckReport:
    """Assert that hand-derived derivatives hold; the failure lists the wrong steps.

    ``subject`` is a :class:`~tracegraph.Trace` (with ``claims`` such as
    ``{"dS/dG": value}``), a path to an expression file (its ``dY_dX``
    assignments are the claims; ``claims`` adds more), or a loaded script.
    Fails when any claim is wrong, cannot be resolved, or when there are no
    claims at all.  Tolerances as in :func:`tracegraph.check.check`.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda w, x: tg.name(tg.sigmoid(tg.name(w * x, "G")), "S"),
        ...              w=0.5, x=2.0)
        >>> s = t["S"].value
        >>> report = assert_claims(t, {"dS_dG": s * (1 - s), "dG_dw": 2.0})
        >>> [r.verdict for r in report.results]
        ['exact', 'exact']
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    report = check(_load(subject), claims, rtol=rtol, atol=atol, accept_rounded=accept_rounded)
    if not report.ok:
        raise AssertionError(_claims_failure(report))
    return report


def _load(subject: Any) -> Any:
    if isinstance(subject, (str, os.PathLike)):
        from .script import load_script

        return load_script(subject)
    return subject


def _claims_failure(report: CheckReport) -> str:
    if not report.results:
        return report.summary()
    failed = len(report.failed)
    verb = "is" if failed == 1 else "are"
    head = f"{failed} of {len(report.results)} hand-derived derivatives {verb} "
    first = report.first_wrong
    if first is not None:
        head += "wrong; " + report.summary().split("; ", 1)[1]
    else:
        head += "not right: " + ", ".join(f"{r.where}: {r.verdict}" for r in report.failed)
    source = f" in {report.source}" if report.source else ""
    return f"{head}\n\nclaims{source}:\n{report.table()}\n\n{report.explain()}"


def assert_gradients_numeric(subject: Trace | Callable[..., Any], /, *, edges: bool = False,
                             seed: Any = None, step: float | None = None, rtol: float = 1e-5,
                             atol: float = 1e-8, **inputs: Any) -> NumericReport:
    """Assert that a trace's gradients agree with central finite differences.

    ``subject`` is a :class:`~tracegraph.Trace`, or a function traced with
    ``inputs`` (``assert_gradients_numeric(loss, w=w0, b=0.5)``); inputs
    named like an option (``edges``, ``seed``, ``step``, ``rtol``, ``atol``)
    need a Trace.  ``edges=True`` also checks every edge's local derivative,
    which pins a wrong rule to its edge.  Points that are not differentiable
    (``abs`` at 0 ...) are reported but do not fail.  See
    :func:`tracegraph.check.numeric_check`.

    Example:
        >>> import numpy as np
        >>> assert_gradients_numeric(lambda w: np.sum(np.tanh(w) ** 2), w=np.ones(3)).ok
        True
    """
    __tracebackhide__ = True
    trace = subject
    if callable(subject) and not hasattr(subject, "tape"):
        from .trace import trace as trace_function

        trace = trace_function(subject, **inputs)
    elif inputs:
        raise TypeError("inputs are only used when the first argument is a function to trace")
    report = numeric_check(trace, edges=edges, seed=seed, step=step, rtol=rtol, atol=atol)
    if not report.ok:
        raise AssertionError(_numeric_failure(report, "gradients disagree with finite differences"))
    return report


def check_primitive(primitive: Any, *, trials: int = 20, seed: int = 0,
                    shapes: tuple[tuple[int, ...], ...] = ((), (3,), (2, 3)),
                    rtol: float = 1e-5, atol: float = 1e-8) -> NumericReport:
    """Assert that a primitive's derivative rule agrees with finite differences.

    ``primitive`` is a function made by :func:`tracegraph.primitive`, a
    :class:`~tracegraph.core.Primitive` or a registered name.  Inputs come
    from the primitive's ``sample``/``domain`` (see
    :func:`tracegraph.check.numeric_check_primitive`); points near a kink are
    skipped.  This is how a user tests their rule the way the built-ins are tested.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> @tg.primitive(grads={"x": (lambda g, out, x: g * out, "exp({x})")},
        ...               name="doc_exp_rule")
        ... def my_exp(x):
        ...     return np.exp(x)
        >>> check_primitive(my_exp, trials=3).ok
        True
        >>> tg.unregister("doc_exp_rule")
    """
    __tracebackhide__ = True
    report = numeric_check_primitive(primitive, trials=trials, seed=seed, shapes=shapes,
                                     rtol=rtol, atol=atol)
    if not report.ok:
        name = getattr(getattr(primitive, "primitive", primitive), "name", primitive)
        raise AssertionError(_numeric_failure(
            report, f"the derivative rule of {name!r} disagrees with finite differences"))
    return report


def _numeric_failure(report: NumericReport, headline: str) -> str:
    lines = [f"{headline}: {report.summary()}", "worst offenders:"]
    for result in report.worst(_WORST_SHOWN):
        lines.append(f"  {result.where}: {result.verdict}, engine "
                     f"{format_number(result.analytic, 6)}, finite differences "
                     f"{format_number(result.numeric, 6)} (rel diff "
                     f"{format_number(result.rel_diff, 2)})"
                     + (f"; {result.note}" if result.note else ""))
    lines.extend(report.notes)
    return "\n".join(lines)

