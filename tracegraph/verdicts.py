"""The words of checking, defined once: verdicts, diagram mark statuses, report outcomes.

:mod:`tracegraph.check` grades with these words and :mod:`tracegraph.diagram`
draws the mark statuses, so both read them from here (the bottom layer).

Example:
    >>> worse("correct", "wrong"), worse("close", "nondiff")
    ('wrong', 'nondiff')
    >>> VERDICTS[0], NUMERIC_VERDICTS[-1]
    ('exact', 'not differentiable here')
"""

from __future__ import annotations

EXACT = "exact"
CLOSE = "close"
WRONG = "wrong"
SHAPE = "shape"
SHAPE_MISMATCH = "shape mismatch"
NO_PATH = "no path"
UNKNOWN_NAME = "unknown name"
NOT_DIFFERENTIABLE = "not differentiable here"
NOT_A_NUMBER = "not a number"

VERDICTS = (EXACT, CLOSE, WRONG, SHAPE, SHAPE_MISMATCH, NO_PATH, UNKNOWN_NAME,
            NOT_DIFFERENTIABLE, NOT_A_NUMBER)
"""Every verdict a claim can get, from best to worst-understood.

``shape``: the right values in a different but compatible shape (``(6,)`` for a
``(1, 6)`` value); it fails, but it is never the first wrong step of a chain.
``shape mismatch``: a shape that cannot be this derivative's."""

OK = "ok"
NUMERIC_VERDICTS = (OK, WRONG, NOT_DIFFERENTIABLE)
"""Every verdict of a finite-difference comparison."""

MARK_STATUSES = ("wrong", "inherited", "nondiff", "close", "correct", "unchecked")
"""What a diagram mark can say about a node or edge, worst first.

``inherited`` is a wrong claim whose only error is an earlier wrong step it
is built on; ``unchecked`` a factor of a wrong chain that nobody claimed.
"""

_SEVERITY = {status: rank for rank, status in enumerate(reversed(MARK_STATUSES))}

FAILED = "failed"
NOTHING_CHECKED = "nothing checked"
OUTCOMES = (OK, FAILED, NOTHING_CHECKED)
"""How a whole report ends: everything holds, something does not, or there was nothing to check."""


def worse(status: str, other: str) -> str:
    """The more severe of two mark statuses (``wrong`` beats everything).

    Example:
        >>> worse("unchecked", "correct")
        'correct'
    """
    return status if _SEVERITY[status] >= _SEVERITY[other] else other
