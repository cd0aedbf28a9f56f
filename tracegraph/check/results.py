"""What a check finds: one result per claim or per finite-difference comparison.

These are plain records; :mod:`.claims` and :mod:`.numeric` make them and
:mod:`.report` tabulates them.

Example:
    >>> ClaimResult("dS_dG", "S", "G", 1.03, 0.1966, "wrong", False).status
    'wrong'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..formula import partial
from ..numbers import distinct_summaries, value_summary
from ..verdicts import CLOSE, EXACT, NO_PATH, NOT_DIFFERENTIABLE, OK, SHAPE, WRONG
from .names import derivative_text


def in_shape(claimed: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A claimed value in the true derivative's shape: reshaped when it has as many
    elements (a ``(6,)`` claim of a ``(1, 6)`` value), else broadcast.

    Example:
        >>> in_shape(np.arange(3.0), (1, 3)).shape, in_shape(2.0, (2,)).tolist()
        ((1, 3), [2.0, 2.0])
    """
    array = np.asarray(claimed, dtype=float)
    if array.shape == tuple(shape):
        return array
    if array.size == int(np.prod(shape, dtype=np.int64)) and array.ndim:
        return array.reshape(shape)
    return np.broadcast_to(array, shape)


@dataclass(frozen=True)
class ChainStep:
    """One factor of the chain rule along a path: d ``of`` / d ``wrt``.

    ``claim`` is the name of the user's claim for this factor (``None`` when
    it was not claimed) and ``verdict`` its verdict (``"not claimed"``
    otherwise); ``expected`` is the true value when both ends are scalars
    (for chains of more than 8 factors, only for claimed steps);
    ``formula`` the local derivative's formula when the two nodes are joined
    by edges of the graph.  ``factor`` is False for a partial result that
    spans several factors (``dLoss/dG`` on the path w1 → A → G → S → Loss).

    Example:
        >>> step = ChainStep("S", "G", "dS_dG", "wrong", 0.1966, "S·(1 − S)", 19)
        >>> step.claimed, step.factor
        (True, True)
    """

    of: str
    wrt: str
    claim: str | None
    verdict: str
    expected: float | None
    formula: str | None
    lineno: int | None = None
    factor: bool = True

    @property
    def claimed(self) -> bool:
        """True when the user claimed this factor."""
        return self.claim is not None


@dataclass(frozen=True)
class ChainPath:
    """One chain-rule path from ``wrt`` to ``of``, through named (or claimed) nodes.

    ``nodes`` runs from ``wrt`` to ``of``; ``steps`` are the factors and the
    user's partial results on it, in derivation order (from the output back).

    Example:
        >>> ChainPath(("w1", "A", "Loss"), ()).nodes[-1]
        'Loss'
    """

    nodes: tuple[str, ...]
    steps: tuple[ChainStep, ...]


@dataclass(frozen=True)
class Chain:
    """Why an end-to-end claim is wrong: its chain-rule paths and the first broken step.

    Example:
        >>> Chain((), None, False, "every factor is right").explanation
        'every factor is right'
    """

    paths: tuple[ChainPath, ...]
    first_broken: ChainStep | None
    truncated: bool
    explanation: str
    own_error: str | None = None
    """A mistake of the claim's own besides the one it inherits (see ``explanation``)."""


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claimed derivative d ``of`` / d ``wrt``.

    Attributes:
        name: the claim as written (``"dS_dG"``, ``"dS/dG"``).
        of, wrt: the node ids it was resolved to (``None`` when it could not be; the
            value's label when it is not a node of the graph, because the output
            does not depend on it).
        claimed: the claimed value (float or ndarray; the raw object if not a number).
        expected: the true derivative (``None`` when it could not be computed).
        verdict: one of :data:`tracegraph.verdicts.VERDICTS`.
        holds: whether the claim counts as right (``exact``, ``close``, a zero
            claim with ``no path``, ``not differentiable here``).
        max_abs_diff, max_rel_diff: largest differences over the elements.
        worst_index: the element with the largest difference (arrays only).
        lineno: the claim's line when it comes from a file.
        note: one sentence explaining the verdict.
        form: how the true derivative was read: ``"gradient"`` (scalar ``of``),
            ``"elementwise"`` (same shapes, diagonal Jacobian) or ``"jacobian"``.
        formula: the local-derivative formula when ``wrt`` feeds ``of`` directly.
        chain: for a wrong claim spanning several steps, the chain analysis.
        order: the claim's place in derivation order (a sort key; see
            :attr:`tracegraph.check.CheckReport.first_wrong`).
        wrt2: for a second derivative ∂²Y/∂X∂Z, Z (``wrt`` again for ∂²Y/∂X²).
        degree: 1 for a first derivative, 2 for a second one.
        labels: how reports name ``of``, ``wrt`` (and ``wrt2``): the graph's labels,
            which tell versions of a name apart (``y₂``).

    Example:
        >>> r = ClaimResult("dS_dG", "S", "G", 1.03, 0.1966, "wrong", False)
        >>> r.status, r.short_note()
        ('wrong', 'dS_dG = 1.03, true 0.1966')
    """

    name: str
    of: str | None
    wrt: str | None
    claimed: Any
    expected: Any
    verdict: str
    holds: bool
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    lineno: int | None = None
    note: str = ""
    form: str = ""
    formula: str | None = None
    chain: Chain | None = None
    order: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)
    wrt2: str | None = None
    degree: int = 1
    labels: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def derivative(self) -> str:
        """The derivative claimed, as reports write it: ``dS/dG``, ``dy₂/dx``, ``∂²y/∂x²``."""
        if self.of is None:
            return ""
        names = self.labels or (self.of, self.wrt) + ((self.wrt2,) if self.degree == 2 else ())
        return derivative_text(names[0], tuple(names[1:]))

    @property
    def status(self) -> str:
        """The diagram mark status: ``correct``, ``close``, ``wrong`` or ``nondiff``."""
        if self.verdict == NOT_DIFFERENTIABLE:
            return "nondiff"
        if not self.holds:
            return "wrong"
        return "close" if self.verdict == CLOSE else "correct"

    @property
    def where(self) -> str:
        """``dS_dG (line 19)`` or just ``dS_dG``."""
        return f"{self.name} (line {self.lineno})" if self.lineno is not None else self.name

    def claimed_text(self) -> str:
        """The claimed value, short (with the digits that tell it from a true value it
        is judged different from)."""
        return self._texts()[0]

    def expected_text(self) -> str:
        """The true value, short."""
        return self._texts()[1]

    def _texts(self) -> tuple[str, str]:
        # a ``shape`` claim has the right values: no digits tell them apart
        same = self.holds or self.verdict == SHAPE
        if same or self.claimed is None or self.expected is None:
            return value_summary(self.claimed), value_summary(self.expected)
        return distinct_summaries(self.claimed, self.expected)

    def versus(self) -> str:
        """``claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445`` (for arrays, at the worst
        element), or the note when there is no true value to show."""
        if self.expected is None:
            return self.note
        claimed, expected, at = self.claimed, self.expected, ""
        if self.worst_index is not None and np.ndim(expected):
            claimed = in_shape(claimed, np.shape(expected))[self.worst_index]
            expected = expected[self.worst_index]
            at = f"[{', '.join(map(str, self.worst_index))}]"
        true = f"{self.derivative()}{at}"
        if self.formula:
            true += f" = {self.formula}"
        shown = distinct_summaries(claimed, expected) if not self.holds else (
            value_summary(claimed), value_summary(expected))
        return f"claimed {shown[0]}, true {true} = {shown[1]}"

    def short_note(self) -> str:
        """One line for a diagram mark (which shows the status itself):
        ``dS_dG = 1.03, true 0.1966``."""
        if self.verdict == EXACT:
            return f"{self.name} = {self.expected_text()}"
        if self.verdict == CLOSE:
            return f"{self.name} = {self.claimed_text()} ≈ {self.expected_text()}"
        if self.verdict in (WRONG, NO_PATH) and self.expected is not None:
            return f"{self.name} = {self.claimed_text()}, true {self.expected_text()}"
        return f"{self.name}: {self.verdict}"


@dataclass(frozen=True)
class NumericResult:
    """One finite-difference comparison.

    ``kind`` is ``"gradient"`` (an element of an input's gradient: ``node``
    is the input, ``index`` the element), ``"local"`` (an edge's local
    derivative ``∂node/∂wrt``; for arrays it is projected on random
    directions, so ``analytic`` and ``numeric`` are uᵀ·J·v), ``"second"``
    (a Hessian column ∂∇f/∂``node[index]``, reported at its worst entry, the
    row ``wrt``) or ``"rule"`` (a rule's second derivative at ``node``: its
    VJP's derivative, projected on random directions).  ``verdict`` is
    one of :data:`tracegraph.verdicts.NUMERIC_VERDICTS`: ``"ok"``, ``"wrong"``
    or ``"not differentiable here"``.  ``node`` and ``wrt`` are graph ids;
    ``labels`` the (child, parent) labels for display.

    Example:
        >>> NumericResult("gradient", "w", None, None, (1,), 0.5, 0.5, 0.0, 0.0, "ok").where
        'w[1]'
    """

    kind: str
    node: str
    wrt: str | None
    key: int | None
    index: tuple[int, ...] | None
    analytic: float
    numeric: float
    abs_diff: float
    rel_diff: float
    verdict: str
    note: str = ""
    labels: tuple[str, str] | None = None

    @property
    def where(self) -> str:
        """``w1``, ``W[0, 2]``, ``∂S/∂G`` (with the nodes' labels), ``∂²/∂w∂b`` (a Hessian
        entry) or ``the tanh rule at S``."""
        if self.kind == "local":
            child, parent = self.labels or (self.node, self.wrt)
            return partial(child, parent)
        if self.kind == "second":
            row, column = self.labels or (self.wrt, self.node)
            return f"∂²/∂{row}²" if row == column else f"∂²/∂{row}∂{column}"
        if self.kind == "rule":
            child, rule = self.labels or (self.node, "")
            return f"the {rule} rule at {child}"
        if self.index:
            return f"{self.node}[{', '.join(map(str, self.index))}]"
        return self.node

    @property
    def status(self) -> str:
        """The diagram mark status."""
        return {OK: "correct", WRONG: "wrong"}.get(self.verdict, "nondiff")
