"""Reporting checks: tables, summaries, explanations and diagram marks.

:class:`CheckReport` holds graded claims and :class:`NumericReport`
finite-difference comparisons; both print as plain-text tables, give the
rows the command line draws (:data:`CLAIM_COLUMNS`, :data:`NUMERIC_COLUMNS`),
an :attr:`outcome` the command line turns into its exit code, and diagram
marks (``DiagramOptions(marks=...)``) that :func:`merge_marks` combines.

Example:
    >>> merge_marks({"G": {"status": "correct", "note": "a"}},
    ...             {"G": {"status": "wrong", "note": "b"}})
    {'G': {'status': 'wrong', 'note': 'a; b'}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from ..numbers import counted, format_number, value_summary
from ..verdicts import (
    FAILED,
    NO_PATH,
    NOT_A_NUMBER,
    NOT_DIFFERENTIABLE,
    NOTHING_CHECKED,
    OK,
    SHAPE,
    VERDICTS,
    WRONG,
    worse,
)
from .chain import LONG_CHAIN
from .results import Chain, ChainStep, ClaimResult, NumericResult

CLAIM_COLUMNS = (("line", "line"), ("claim", "claim"), ("derivative", "derivative"),
                 ("verdict", "verdict"), ("claimed", "claimed"), ("expected", "true value"),
                 ("note", "note"))
"""The claims table: (key of :meth:`CheckReport.rows`, column title)."""

NUMERIC_COLUMNS = (("check", "check"), ("where", "where"), ("verdict", "verdict"),
                   ("analytic", "engine"), ("numeric", "finite diff"),
                   ("rel_diff", "rel diff"), ("note", "note"))
"""The finite-difference table: (key of :meth:`NumericReport.rows`, column title)."""

Marks = dict[Any, dict[str, str]]

NUMERIC_KINDS = {"gradient": "gradient element", "local": "local derivative",
                 "second": "Hessian column", "rule": "rule second derivative"}
"""The kinds of finite-difference comparison (:attr:`NumericResult.kind`), as counted."""
NUMERIC_CHECK_WORDS = {"gradient": "gradient", "local": "local", "second": "hessian",
                       "rule": "rule (2nd)"}


class CheckReport:
    """The graded claims of one trace (or expression file).

    Attributes:
        results: one :class:`ClaimResult` per claim, in the order given (file order).
        source: the file the claims came from, if any.
        notes: names of the file shaped like claims that are not claims (``dx_dt``
            with no traced ``t``): ordinary values, reported but never failed.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.check import check
        >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
        >>> report = check(t, {"dy_dx": 6.0})
        >>> report.ok, report.outcome, report.results[0].verdict
        (True, 'ok', 'exact')
    """

    def __init__(self, results: Sequence[ClaimResult], graph: nx.MultiDiGraph,
                 source: str | None = None, notes: Sequence[str] = ()) -> None:
        self.results = tuple(results)
        self.source = source
        self.notes = tuple(notes)
        self._graph = graph

    def __repr__(self) -> str:
        return f"<CheckReport {self.summary()}>"

    @property
    def failed(self) -> tuple[ClaimResult, ...]:
        """The claims that do not hold (wrong, unresolved, wrong shape ...)."""
        return tuple(r for r in self.results if not r.holds)

    @property
    def ok(self) -> bool:
        """True when there is at least one claim and every claim holds."""
        return bool(self.results) and not self.failed

    @property
    def outcome(self) -> str:
        """``"ok"`` when every claim holds, ``"failed"`` when any does not, ``"nothing
        checked"`` when there were no claims (see :data:`tracegraph.verdicts.OUTCOMES`)."""
        if not self.results:
            return NOTHING_CHECKED
        return OK if self.ok else FAILED

    @property
    def first_wrong(self) -> ClaimResult | None:
        """The root of the errors: the first wrong claim in derivation order.

        Derivation order runs from the output back to the inputs, the way the
        chain rule is applied (dLoss/dS, then dS/dG, then dLoss/dG ...), so a
        claim comes after every claim it is built on and the first wrong one
        is an error of its own, not one inherited from an earlier step.
        """
        wrong = [r for r in self.failed if r.of is not None
                 and r.verdict not in (NOT_A_NUMBER, SHAPE)]
        # Second derivatives are built on first ones: they come after all of them.
        return min(wrong, key=lambda r: (r.degree, r.order)) if wrong else None

    def counts(self) -> dict[str, int]:
        """How many claims got each verdict (only verdicts that occur)."""
        counts = {verdict: 0 for verdict in VERDICTS}
        for result in self.results:
            counts[result.verdict] += 1
        return {verdict: n for verdict, n in counts.items() if n}

    def summary(self) -> str:
        """One line, e.g. ``14 claims: 10 exact, 4 wrong; first wrong step: dS_dG (line 19):
        claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445``."""
        if not self.results:
            text = ("no claims to check: name a variable dY_dX (dS_dG = S * (1 - S)) "
                    "or pass {'dS/dG': value}")
            return text + (f"; {self._notes_text()}" if self.notes else "")
        counts = ", ".join(f"{n} {verdict}" for verdict, n in self.counts().items())
        text = f"{counted(len(self.results), 'claim')}: {counts}"
        first = self.first_wrong
        if first is not None:
            text += f"; first wrong step: {first.where}: {first.versus()}"
        elif self.failed:
            shaped = sum(r.verdict == SHAPE for r in self.failed)
            if shaped:
                text += f"; {shaped} with the right values in the wrong shape"
            if len(self.failed) > shaped:
                text += f"; {len(self.failed) - shaped} could not be checked"
        if self.notes:
            text += f"; {self._notes_text()}"
        return text

    def _notes_text(self) -> str:
        count = len(self.notes)
        return (f"{counted(count, 'name')} shaped like a claim "
                f"{'are' if count != 1 else 'is'} not a claim (see the notes)")

    def rows(self) -> list[dict[str, str]]:
        """The table of claims for the command line: one dict per claim.

        Keys (:data:`CLAIM_COLUMNS`): ``line``, ``claim``, ``derivative``,
        ``verdict``, ``claimed``, ``expected``, ``note``.

        Example:
            >>> import tracegraph as tg
            >>> from tracegraph.check import check
            >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
            >>> check(t, {"dy_dx": 5.0}).rows()[0]["verdict"]
            'wrong'
        """
        rows = []
        first = self.first_wrong
        for result in self.results:
            note = result.note
            if result is first:
                note = "first wrong step" + (f"; {note}" if note else "")
            elif result.chain is not None and result.chain.first_broken is not None:
                note = f"inherits the error of {result.chain.first_broken.claim}"
                if result.chain.own_error:
                    note += ", and has one of its own"
            derivative = result.derivative()
            if result.formula and result.of is not None:
                derivative += f" = {result.formula}"
            rows.append({
                "line": "" if result.lineno is None else str(result.lineno),
                "claim": result.name,
                "derivative": derivative,
                "verdict": result.verdict,
                "claimed": result.claimed_text(),
                "expected": result.expected_text(),
                "note": note,
            })
        return rows

    def inheriting(self, root: ClaimResult) -> tuple[ClaimResult, ...]:
        """The wrong claims whose first broken step is ``root`` (they inherit its error)."""
        return tuple(r for r in self.failed if r.chain is not None and r.chain.first_broken
                     is not None and (r.chain.first_broken.of, r.chain.first_broken.wrt)
                     == (root.of, root.wrt))

    def explain(self, *, inherited: bool = True) -> str:
        """The failing claims in detail; for end-to-end ones, the factors of the chain
        rule with their verdicts and the first wrong step.

        With ``inherited=False`` a claim that only inherits another claim's
        error is not repeated: it is listed under the claim it is built on.
        """
        lines = []
        first = self.first_wrong
        for result in self.failed:
            inherits = result.chain is not None and result.chain.first_broken is not None \
                and not result.chain.own_error
            if inherits and not inherited:
                continue
            lines.append(f"{result.where}: {result.verdict}"
                         + (", the first wrong step" if result is first else ""))
            if result.verdict in (WRONG, NO_PATH):
                lines.extend(_claimed_vs_true(result))
            elif result.note:
                lines.append(f"  {result.note}")
            heirs = self.inheriting(result)
            if heirs:
                lines.append("  built on it, so also wrong: " + ", ".join(h.name for h in heirs))
            if result.chain is not None:
                lines.extend(_chain_lines(result, self._label))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def marks(self) -> Marks:
        """Diagram marks (``DiagramOptions(marks=...)``) for every graded claim.

        A claim about two adjacent nodes marks the edge(s) between them; an
        end-to-end claim (``dLoss/dw1``) marks the node it is taken with
        respect to.  Statuses: ``correct``, ``close``, ``wrong``, ``nondiff``,
        and ``inherited`` for a wrong claim whose only error is an earlier wrong
        step it is built on; the first wrong step's note starts with ``first
        wrong step``.  Edges on
        the chain of a wrong claim that nobody claimed are ``unchecked``.

        Example:
            >>> import tracegraph as tg
            >>> from tracegraph.check import check
            >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
            >>> check(t, {"dy_dx": 5.0}).marks()[("x", "y", 0)]["status"]
            'wrong'
        """
        marks: Marks = {}
        first = self.first_wrong
        for result in self.results:
            if result.of is None or result.of not in self._graph or (
                    result.wrt not in self._graph):
                continue  # a value the diagram does not show
            note = result.short_note()
            status = result.status
            if result is first:
                note = "first wrong step: " + note
            elif result.chain is not None and result.chain.first_broken is not None:
                note += f" (inherits {result.chain.first_broken.claim})"
                if not result.chain.own_error:
                    status = "inherited"
            for target in self._targets(result.of, result.wrt):
                put_mark(marks, target, status, note)
        for result in self.failed:
            if result.chain is not None:
                self._mark_unclaimed(marks, result.chain)
        return marks

    def _label(self, node: str) -> str:
        graph = self._graph
        return graph.nodes[node]["label"] if node in graph else node

    def _targets(self, of: str, wrt: str) -> list[Any]:
        edges = self._graph.get_edge_data(wrt, of)
        if edges:
            return [(wrt, of, key) for key in sorted(edges)]
        return [wrt]

    def _mark_unclaimed(self, marks: Marks, chain: Chain) -> None:
        for path in chain.paths:
            for step in path.steps:
                if step.claimed:
                    continue
                for target in self._targets(step.of, step.wrt):
                    if isinstance(target, tuple) and target not in marks:
                        put_mark(marks, target, "unchecked",
                                 f"d{self._label(step.of)}/d{self._label(step.wrt)} not claimed")

    def table(self) -> str:
        """The claims as a plain-text table (the columns of :meth:`rows`)."""
        return format_table(self.rows(), CLAIM_COLUMNS)

    def __str__(self) -> str:
        title = f"checking {self.source}" if self.source else "checking claims"
        parts = [title, self.table(), self.summary()]
        details = self.explain()
        if details:
            parts.append(details)
        return "\n".join(parts)


def _claimed_vs_true(result: ClaimResult) -> list[str]:
    true = _full_text(result.expected)
    if result.formula and "\n" not in true:
        true = f"{result.derivative()} = {result.formula} = {true}"
    detail = f" ({result.note})" if result.note else ""
    if "\n" in true or "\n" in _full_text(result.claimed):
        return [f"  claimed {_full_text(result.claimed)}", f"  true    {true}{detail}"]
    return [f"  claimed {_full_text(result.claimed)}, true {true}{detail}"]


def _chain_lines(result: ClaimResult, label: Any) -> list[str]:
    chain = result.chain
    lines = []

    def text(step: ChainStep) -> str:
        return f"d{label(step.of)}/d{label(step.wrt)}"

    several = len(chain.paths) > 1
    if several:  # the derivative is the sum of the paths' products, not each of them
        more = "+ " if chain.truncated else ""
        lines.append(f"  {result.derivative()} is the sum over {len(chain.paths)}{more} paths:")
    for path in chain.paths:
        factors = [step for step in path.steps if step.factor]
        partials = [step for step in path.steps if not step.factor and step.claimed]
        nodes = [label(node) for node in path.nodes[::-1]]
        lead = "  + " if several else f"  {result.derivative()} = "
        lines.append(f"{lead}{_product_text(factors, text)}   "
                     f"(path {_abbreviated(nodes, ' ← ')})")
        shown = factors if len(factors) <= LONG_CHAIN else [s for s in factors if s.claimed]
        listing = [f"{text(s)} {s.verdict}" for s in shown]
        if len(shown) < len(factors):
            listing.append(f"{len(factors) - len(shown):,} not claimed")
        lines.append("    factors: " + ", ".join(listing))
        if partials:
            lines.append("    partial results: " + ", ".join(
                f"{text(s)} {s.verdict}" for s in partials))
    if chain.truncated and chain.paths:
        lines.append(f"    (only the first {len(chain.paths)} paths are shown)")
    lines.append(f"  {chain.explanation}")
    return lines


def _product_text(factors: Sequence[ChainStep], text: Any) -> str:
    if len(factors) <= LONG_CHAIN:
        return " · ".join(text(s) for s in factors)
    return f"the product of {len(factors):,} factors"


def _abbreviated(items: Sequence[str], separator: str) -> str:
    """Items joined, with the middle of a long list elided."""
    if len(items) <= LONG_CHAIN:
        return separator.join(items)
    return separator.join([*items[:3], "…", *items[-2:]])


def _full_text(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.size > 4:
        with np.printoptions(precision=4, threshold=40, linewidth=88):
            return np.array2string(value, prefix="          ")
    return value_summary(value)


def format_table(rows: list[dict[str, str]], columns: Sequence[tuple[str, str]]) -> str:
    """Plain aligned text columns, dropping columns that are empty in every row.

    Example:
        >>> rows = [{"a": "1", "b": ""}, {"a": "22", "b": ""}]
        >>> print(format_table(rows, [("a", "A"), ("b", "B")]))
        A
        1
        22
    """
    used = [(key, title) for key, title in columns if any(row[key] for row in rows)]
    widths = [max([len(title)] + [len(row[key]) for row in rows]) for key, title in used]
    lines = ["  ".join(title.ljust(w) for (_, title), w in zip(used, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(row[key].ljust(w) for (key, _), w in zip(used, widths)).rstrip())
    return "\n".join(lines)


def put_mark(marks: Marks, target: Any, status: str, note: str) -> None:
    """Add a mark to ``marks``; on a target already marked the worse status wins and
    the notes are joined (each note once).

    Example:
        >>> marks = {}
        >>> put_mark(marks, "G", "correct", "claimed 2")
        >>> put_mark(marks, "G", "wrong", "numeric 3")
        >>> put_mark(marks, "G", "correct", "claimed 2")
        >>> marks
        {'G': {'status': 'wrong', 'note': 'claimed 2; numeric 3'}}
    """
    current = marks.get(target)
    if current is None:
        marks[target] = {"status": status, "note": note}
        return
    notes = current["note"] if note in current["note"].split("; ") else (
        f"{current['note']}; {note}")
    marks[target] = {"status": worse(current["status"], status), "note": notes}


def merge_marks(*mark_sets: Mapping[Any, Mapping[str, str]]) -> Marks:
    """Combine diagram marks (e.g. a claims report and a numeric report): the worse
    status wins and the notes are joined.

    Example:
        >>> merge_marks({"G": {"status": "correct", "note": "a"}},
        ...             {"G": {"status": "wrong", "note": "b"}})
        {'G': {'status': 'wrong', 'note': 'a; b'}}
    """
    merged: Marks = {}
    for marks in mark_sets:
        for target, mark in marks.items():
            put_mark(merged, target, mark["status"], mark["note"])
    return merged


# --------------------------------------------------------------------------- numeric


class NumericReport:
    """Gradients and local derivatives compared with central finite differences.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> from tracegraph.check import numeric_check
        >>> report = numeric_check(tg.trace(lambda x: np.sum(np.tanh(x)), x=np.ones(3)))
        >>> report.ok, len(report.results), report.outcome
        (True, 3, 'ok')
    """

    def __init__(self, results: Sequence[NumericResult], step: float,
                 notes: Sequence[str] = ()) -> None:
        self.results = tuple(results)
        self.step = step
        self.notes = tuple(notes)

    def __repr__(self) -> str:
        return f"<NumericReport {self.summary()}>"

    @property
    def wrong(self) -> tuple[NumericResult, ...]:
        """The comparisons that disagree (away from any non-differentiable point)."""
        return tuple(r for r in self.results if r.verdict == WRONG)

    @property
    def nondifferentiable(self) -> tuple[NumericResult, ...]:
        """The comparisons made at (or across) a non-differentiable point."""
        return tuple(r for r in self.results if r.verdict == NOT_DIFFERENTIABLE)

    @property
    def ok(self) -> bool:
        """True when nothing disagrees (non-differentiable points do not count)."""
        return not self.wrong

    @property
    def outcome(self) -> str:
        """``"ok"``, or ``"failed"`` when a derivative disagrees with finite differences."""
        return OK if self.ok else FAILED

    def worst(self, count: int = 10) -> list[NumericResult]:
        """The worst offenders: disagreements by relative difference, then kinks."""
        ranked = sorted(self.wrong, key=lambda r: (-r.rel_diff, -r.abs_diff)) + list(
            self.nondifferentiable)
        return ranked[:count]

    def summary(self) -> str:
        """``7 gradient elements and 11 local derivatives: 17 ok, 1 wrong (worst: ∂y/∂z)``."""
        kinds = {kind: sum(r.kind == kind for r in self.results) for kind in NUMERIC_KINDS}
        parts = [f"{kinds[kind]:,} {word}{'s' if kinds[kind] != 1 else ''}"
                 for kind, word in NUMERIC_KINDS.items()
                 if kinds[kind] or (kind == "gradient" and not kinds["second"])]
        checked = " and ".join(parts)
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.verdict] = counts.get(result.verdict, 0) + 1
        text = f"{checked}: " + (", ".join(f"{n:,} {verdict}" for verdict, n in counts.items())
                                 or "nothing to check")
        if self.wrong:
            text += f" (worst: {self.worst(1)[0].where})"
        return text

    def rows(self) -> list[dict[str, str]]:
        """One row per input (its worst element) and per edge that is not ok
        (keys: :data:`NUMERIC_COLUMNS`)."""
        rows = []
        for result in self._per_subject():
            rows.append({
                "check": NUMERIC_CHECK_WORDS[result.kind],
                "where": result.where,
                "verdict": result.verdict,
                "analytic": format_number(result.analytic, 6),
                "numeric": format_number(result.numeric, 6),
                "rel_diff": format_number(result.rel_diff, 2),
                "note": result.note,
            })
        return rows

    def _per_subject(self) -> list[NumericResult]:
        """The worst result per input, then every edge result that is not ok."""
        worst: dict[tuple[str, str], NumericResult] = {}
        for result in self.results:
            if result.kind not in ("gradient", "second"):
                continue
            current = worst.get((result.kind, result.node))
            if current is None or _severity(result) > _severity(current):
                worst[(result.kind, result.node)] = result
        edges = [r for r in self.results if r.kind in ("local", "rule") and r.verdict != OK]
        return list(worst.values()) + edges

    def marks(self) -> Marks:
        """Diagram marks for the inputs and edges that disagree or sit on a kink."""
        marks: Marks = {}
        for result in self.results:
            if result.verdict == OK:
                continue
            target = (result.wrt, result.node, result.key) if result.kind == "local" else (
                result.node)
            if result.kind == "local" and result.key is None:
                continue
            note = (f"{result.where}: engine {format_number(result.analytic)}, finite "
                    f"differences {format_number(result.numeric)}")
            put_mark(marks, target, result.status, note)
        return marks

    def __str__(self) -> str:
        lines = [f"finite differences (central, relative step {format_number(self.step, 3)})",
                 format_table(self.rows(), NUMERIC_COLUMNS), self.summary()]
        lines.extend(self.notes)
        return "\n".join(lines)


def _severity(result: NumericResult) -> tuple[int, float]:
    rank = {OK: 0, NOT_DIFFERENTIABLE: 1, WRONG: 2}[result.verdict]
    return rank, result.rel_diff
