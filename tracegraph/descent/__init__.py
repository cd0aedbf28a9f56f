"""Gradient descent in the open: optimisers, stopping rules, comparisons and pictures.

- :mod:`.objective`   the function as f(θ) of one flat vector, evaluated by replaying its record
- :mod:`.optimizers`  the update rules (torch.optim's semantics in float64) and Armijo
- :mod:`.run`         :func:`descend`, the loop and its stopping rules, :class:`Descent`
- :mod:`.compare`     :func:`compare`: several methods (and Nelder–Mead) from one start
- :mod:`.plots`, :mod:`.animation`  pictures (matplotlib, Pillow; imported when used)

Example:
    >>> import tracegraph as tg
    >>> run = tg.descend(lambda x: (x - 2.0) ** 2, x=0.0, optimizer="armijo", lr=1.0, steps=5)
    >>> run.final["x"], run.steps, run.stopped
    (2.0, 5, 'max steps')
"""

from .compare import Comparison, compare
from .optimizers import RULES
from .run import Descent, descend

OPTIMIZERS = tuple(RULES)
"""The optimiser names :func:`descend` accepts."""

__all__ = ["OPTIMIZERS", "Comparison", "Descent", "compare", "descend"]
