"""Grading claims: is a hand-derived derivative right?

A claim (``dS/dG = S·(1 − S)``, or ``d2y_dx2 = 6·x`` for ∂²y/∂x²) is resolved
to values of the record - in an expression file, the values its names hold
where it is written - compared with the true derivative (first order: read
off the record by reverse passes, :mod:`.derivatives`; second order: by
differentiating the replayed record twice, :mod:`.second`) and given a
verdict; a wrong end-to-end claim is then explained along the chain rule
(:mod:`.chain`).

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
    >>> report = check(t, {"dy_dx": 6.0, "dx/dy": 1.0, "d2y_dx2": 2.0})
    >>> [(r.name, r.verdict) for r in report.results]
    [('dy_dx', 'exact'), ('dx/dy', 'no path'), ('d2y_dx2', 'exact')]
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import os
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx
import numpy as np

from .. import autodiff
from ..core import Var, plain_value, shape_of
from ..errors import TracegraphError, display_path
from ..numbers import format_number, value_summary
from ..verdicts import (
    CLOSE,
    EXACT,
    NO_PATH,
    NOT_A_NUMBER,
    NOT_DIFFERENTIABLE,
    SHAPE,
    SHAPE_MISMATCH,
    UNKNOWN_NAME,
    WRONG,
)
from .chain import ChainAnalyst
from .compare import Comparison, claim_value, compare, precision_of
from .derivatives import Derivatives, ShapeProblem, in_float64
from .names import Reading, claim_readings, derivative_text
from .one_sided import MAX_PROBED, OneSided, slopes_together
from .report import CheckReport
from .results import ClaimResult, in_shape
from .second import SecondDerivatives
from .subject import Traced, edge_formula, node_ids, tape_label

CONSTANT = -1
"""A claim's side that names a constant (no derivative); the binder's word for it too."""

Refs = Callable[[str], "str | None"]


# --------------------------------------------------------------------------- names


def claim_pairs(key: Any) -> list[tuple[str, str]]:
    """Every (of, wrt) first-order reading of a claim key: ``"dS/dG"``, ``"dS_dG"`` or
    ``("S", "G")`` (see :func:`tracegraph.check.names.claim_readings` for all readings).

    Example:
        >>> claim_pairs("dx_dy_dz")
        [('x', 'y_dz'), ('x_dy', 'z')]
        >>> claim_pairs("∂S/∂G"), claim_pairs(("S", "G"))
        ([('S', 'G')], [('S', 'G')])
    """
    return [(r.of, r.wrt[0]) for r in claim_readings(key) if r.order == 1]


def _resolve(key: Any, graph: nx.MultiDiGraph, refs: Refs | None
             ) -> tuple[Reading | None, tuple[str, ...], str]:
    """The reading of a claim key naming nodes of the graph, their ids, or why none does."""
    readings = claim_readings(key)
    if not readings:
        return None, (), (f"{key!r} does not name a derivative: write dY_dX, 'dY/dX', "
                          "d2Y_dX2 or ('Y', 'X') with Y and X node names")

    def node(name: str) -> str | None:
        found = refs(name) if refs is not None else None
        return found if found is not None else (name if name in graph else None)

    found = []
    for reading in readings:
        ids = tuple(node(name) for name in reading.names)
        if all(ids):
            found.append((reading, ids))
    found = list(dict.fromkeys(found))
    if len(found) == 1:
        return found[0][0], found[0][1], ""
    if len(found) > 1:
        texts = " or ".join(r.text() for r, _ in found)
        return None, (), (f"{key!r} is ambiguous: it reads as {texts}; pass the names "
                          f"instead, e.g. {found[0][0].names!r}")
    return None, (), _unknown_names(readings, graph, node)


def _unknown_names(readings: list[Reading], graph: nx.MultiDiGraph,
                   node: Callable[[str], str | None]) -> str:
    # Prefer the reading where a name exists: it says which name is misspelt.
    partial = [r for r in readings if any(node(name) for name in r.names)]
    reading = (partial or readings)[0]
    named = sorted(str(n) for n, data in graph.nodes(data=True) if data["name"] is not None)
    problems = []
    for name in dict.fromkeys(reading.names):
        if node(name):
            continue
        close = difflib.get_close_matches(name, named, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(f"no node named {name!r}{hint}")
    listing = ", ".join(named[:15]) + (", ..." if len(named) > 15 else "")
    return "; ".join(problems) + (f". Named nodes: {listing}" if named else "")


# --------------------------------------------------------------------------- grading


class Grader:
    """Grades claims against one trace; shares passes and lookups between them.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
        >>> Grader(t, 1e-6, 1e-9, True).grade("dy_dx", "dy_dx", 6.0, None).verdict
        'exact'
    """

    def __init__(self, trace: Traced, rtol: float, atol: float, accept_rounded: bool,
                 refs: Refs | None = None) -> None:
        self.tape = trace.tape
        self.graph = trace.graph
        self.nodes = self.tape.equations
        self.derivatives = Derivatives(self.tape)
        self.second = SecondDerivatives(self.tape)
        self.rtol, self.atol, self.accept_rounded = rtol, atol, accept_rounded
        self.refs = refs
        self.ids = node_ids(self.graph)
        self._ancestors: dict[int, frozenset[int]] = {}

    # -- lookups by graph id (the chain analysis works on the graph) -------------------
    def index(self, node: str) -> int | None:
        """The tape position of a graph node (``None`` for a constant)."""
        return self.graph.nodes[node]["index"]

    def influences(self, of: str, wrt: str) -> bool:
        """True when ``wrt`` lies on some path to ``of`` (read off the record)."""
        return self._reaches(self.index(wrt), self.index(of))

    def _reaches(self, wrt: int, of: int) -> bool:
        if of not in self._ancestors:  # one walk per `of` serves all its claims
            self._ancestors[of] = frozenset(self.tape.ancestors(of))
        return wrt in self._ancestors[of]

    def formula(self, of: str, wrt: str) -> str | None:
        """The local derivative's formula when ``wrt`` feeds ``of`` directly and by no
        other way (with another path, the derivative is a sum the edge is one term of)."""
        if of not in self.graph or wrt not in self.graph:
            return None
        if any(child != of and nx.has_path(self.graph, child, of)
               for child in self.graph.successors(wrt)):
            return None
        return edge_formula(self.graph, of, wrt)

    def _id(self, index: int) -> str:
        return self.ids[index] if index in self.ids else tape_label(self.tape, index)

    def _label(self, index: int) -> str:
        if index in self.ids:
            return self.graph.nodes[self.ids[index]]["label"]
        return tape_label(self.tape, index)

    # -- grading -----------------------------------------------------------------------
    def grade(self, name: str, key: Any, value: Any, lineno: int | None,
              source: Any = None) -> ClaimResult | str:
        """The verdict on one claim ``key`` (``"dS/dG"``, ``("S", "G")``, ``"d2y_dx2"``)
        of ``value``.  ``source`` is a claim of a file (``ClaimSource``): resolved where
        it was written, or by node names; a file's name that names no node gives a
        note (a string), not a verdict."""
        raw = value.value if type(value) is Var else value
        claimed = claim_value(value)
        shown = raw if claimed is None else claimed
        problem = getattr(source, "problem", "")
        if problem:
            return ClaimResult(name, None, None, shown, None, UNKNOWN_NAME, False,
                               lineno=lineno, note=problem)
        nodes = getattr(source, "nodes", None)
        if nodes is not None:
            reading = source.reading
        else:
            reading, ids, problem = _resolve(key, self.graph, self.refs)
            if reading is None:
                if source is not None:
                    return f"{name} (line {lineno}) is not a claim: {problem}"
                return ClaimResult(name, None, None, shown, None, UNKNOWN_NAME, False,
                                   lineno=lineno, note=problem)
            nodes = tuple(CONSTANT if self.index(i) is None else self.index(i) for i in ids)
        return self._grade_nodes(name, reading, nodes, value, raw, claimed, lineno,
                                 getattr(source, "dtype", None),
                                 getattr(source, "written", None))

    def _grade_nodes(self, name: str, reading: Reading, nodes: tuple[int, ...], value: Any,
                     raw: Any, claimed: Any, lineno: int | None, dtype: str | None,
                     written: tuple[str, ...] | None = None) -> ClaimResult:
        degree = reading.order
        labels = tuple(reading.names[k] if index == CONSTANT else self._label(index)
                       for k, index in enumerate(nodes))
        ids = tuple(reading.names[k] if index == CONSTANT else self._id(index)
                    for k, index in enumerate(nodes))
        base = dict(name=name, of=ids[0], wrt=ids[1], lineno=lineno, degree=degree,
                    wrt2=ids[2] if degree == 2 else None, labels=labels,
                    formula=self.formula(ids[0], ids[1]) if degree == 1 else None)
        for label, index in zip(labels, nodes):
            if index == CONSTANT:
                return ClaimResult(**base, claimed=raw, expected=None, verdict=UNKNOWN_NAME,
                                   holds=False, note=f"{label!r} is a constant in this trace, "
                                   "so it has no derivative; make it an input to check this "
                                   "claim (a float, or an int used in arithmetic with traced "
                                   "values, is one)")
        of = nodes[0]
        wrt = nodes[1:]
        order = (-max(wrt), of)
        if claimed is None:
            return ClaimResult(**base, claimed=raw, expected=None, verdict=NOT_A_NUMBER,
                               holds=False, order=order,
                               note=f"the claim is a {type(raw).__name__}, not a number or array")
        if not all(self._reaches(w, of) for w in wrt):
            return self._no_path(base, nodes, claimed, order)
        try:
            if degree == 1:
                expected, form = self.derivatives.true_value(of, wrt[0], shape_of(claimed),
                                                             labels[:2])
            else:
                expected, form = self.second.true_value(of, (wrt[0], wrt[1]),
                                                        shape_of(claimed), labels)
        except ShapeProblem as shape_problem:
            return ClaimResult(**base, claimed=claimed, expected=None, verdict=SHAPE_MISMATCH,
                               holds=False, order=order, note=str(shape_problem))
        except TracegraphError as err:
            return ClaimResult(**base, claimed=claimed, expected=None, verdict=SHAPE_MISMATCH,
                               holds=False, order=order,
                               note=f"the second derivative cannot be computed: {err.message}")
        precision = precision_of(dtype or raw, *(self.nodes[i].value for i in nodes))
        return self._verdict(base, nodes, claimed, expected, form, order, precision, written)

    def _verdict(self, base: dict, nodes: tuple[int, ...], claimed: Any, expected: Any,
                 form: str, order: tuple[int, int], precision: str,
                 written: tuple[str, ...] | None = None) -> ClaimResult:
        claim_shape, true_shape = shape_of(claimed), shape_of(expected)
        reshaped = claim_shape not in ((), true_shape)
        compared = in_shape(claimed, true_shape) if reshaped else claimed
        comparison = compare(compared, expected, self.rtol, self.atol, self.accept_rounded,
                             precision, written)
        verdict, note = comparison.verdict, self._note(comparison, form, precision)
        if verdict == WRONG and precision != "float64" and len(nodes) == 2:
            widened = self._in_float64(nodes, true_shape if reshaped else claim_shape,
                                       base["labels"])
            again = None if widened is None else compare(
                compared, widened, self.rtol, self.atol, self.accept_rounded, precision, written)
            if again is not None and again.verdict != WRONG:
                comparison, verdict = again, again.verdict
                why = (f"{precision} rounding in the trace's rules gives "
                       f"{value_summary(expected)}; computed in float64 it is "
                       f"{value_summary(widened)}")
                note = "; ".join(filter(None, (self._note(again, form, precision), why)))
                expected = widened
        derivative = derivative_text(base["labels"][0], base["labels"][1:])
        if reshaped:
            shapes = (f"the claim has shape {claim_shape}, {derivative} has shape "
                      f"{true_shape}")
            if verdict != WRONG:
                verdict, note = SHAPE, f"the right values, but {shapes}"
            else:
                note = f"{note}; {shapes}"
        if verdict == WRONG:
            kink = self._kink_between(min(nodes[1:]), nodes[0])
            if kink is not None:
                verdict, note = self._at_kink(kink, nodes, compared, expected, form,
                                              derivative, note)
        return ClaimResult(
            **base, claimed=claimed, expected=expected, verdict=verdict,
            holds=verdict in (EXACT, CLOSE, NOT_DIFFERENTIABLE),
            max_abs_diff=comparison.max_abs_diff, max_rel_diff=comparison.max_rel_diff,
            worst_index=comparison.worst_index, note=note, form=form, order=order)

    def _in_float64(self, nodes: tuple[int, ...], shape: tuple[int, ...],
                    labels: tuple[str, ...]) -> Any:
        """d of/d wrt with the trace's low-precision inputs widened to float64 (``None``
        when that cannot be had): a claim may be computed more carefully than the rules."""
        with in_float64(self.tape) as wide:
            if wide is None:
                return None
            try:
                return wide.true_value(nodes[0], nodes[1], shape, labels[:2])[0]
            except (ShapeProblem, TracegraphError):
                return None

    def _at_kink(self, kink: str, nodes: tuple[int, ...], claimed: Any, expected: Any,
                 form: str, derivative: str, note: str) -> tuple[str, str]:
        """The verdict on a claim off tracegraph's convention with a kink on the path:
        defensible (not differentiable here) when every element it differs in lies
        between the one-sided derivatives there, else wrong."""
        where = (f"{kink!r} sits exactly at a point where it is not differentiable, so "
                 f"{derivative} is not defined here")
        if len(nodes) != 2:
            return WRONG, (f"{note}; {kink!r} sits exactly at a point where it is not "
                           f"differentiable, and tracegraph does not bound a second "
                           f"derivative from either side: only its convention is accepted")
        claimed_array = np.broadcast_to(np.asarray(claimed, dtype=float), np.shape(expected))
        differs = ~np.isclose(claimed_array, expected, rtol=max(self.rtol, 1e-6),
                              atol=self.atol, equal_nan=True)
        elements = [tuple(int(i) for i in e) for e in np.argwhere(differs)] \
            if np.ndim(expected) else [()]
        if len(elements) > MAX_PROBED:
            return WRONG, (f"{note}; {where}, and the claim differs from tracegraph's "
                           f"convention in {len(elements):,} elements, too many to bound")
        sides = OneSided(self.tape, nodes[0], nodes[1])
        convention = f"tracegraph's convention gives {value_summary(expected)}"
        # the gradient's other elements too, to find the ones at a kink (ties)
        probed = [tuple(int(i) for i in e) for e in np.ndindex(np.shape(expected))] \
            if form == "gradient" and np.size(expected) <= MAX_PROBED else elements
        bounds = {element: sides.bounds(form, element) for element in probed}
        for element in elements:
            low, high = bounds[element]
            value = float(claimed_array[element])
            if not _between(value, low, high, self.atol):
                at = f" at {list(element)}" if element else ""
                return WRONG, (f"{where}, but the claim{at} ({format_number(value)}) is "
                               f"outside what the two sides give ({_range_text(low, high)}); "
                               f"{convention}")
        if form == "gradient":
            # Elements at a kink share what moving them together gives: all of them, and
            # every pair (two tie groups must not make up for each other).
            kinked = [e for e in probed if e in elements or not _between(
                bounds[e][1], bounds[e][0], bounds[e][0], self.atol)]
            groups = [kinked] if len(kinked) > 1 else []
            if 2 < len(kinked) <= MAX_PAIRED:
                groups += [list(pair) for pair in itertools.combinations(kinked, 2)]
            for group in groups:
                total = float(sum(claimed_array[e] for e in group))
                low, high = sides.along(group)
                if not _between(total, low, high, self.atol):
                    return WRONG, (f"{where}, but the claim's elements {_elements(group)} "
                                   f"add up to {format_number(total)}, while moving them "
                                   f"together changes it at {_range_text(low, high)}; "
                                   f"{convention}")
        return NOT_DIFFERENTIABLE, (f"{where}; the claim lies between the derivatives from "
                                    f"either side ({convention})")

    def _no_path(self, base: dict, nodes: tuple[int, ...], claimed: Any,
                 order: tuple[int, int]) -> ClaimResult:
        zero = not np.any(np.asarray(claimed))
        labels = base["labels"]
        of = labels[0]
        cut = list(dict.fromkeys(label for label, index in zip(labels[1:], nodes[1:])
                                 if not self._reaches(index, nodes[0])))
        note = (f"{' and '.join(cut)} {'does' if len(cut) == 1 else 'do'} not influence {of} "
                f"(no path from {cut[0]} to {of}), so {derivative_text(of, labels[1:])} = 0")
        if not zero:
            note += f", not {value_summary(claimed)}"
        return ClaimResult(**base, claimed=claimed, expected=0.0, verdict=NO_PATH, holds=zero,
                           max_abs_diff=float(np.max(np.abs(claimed))), order=order, note=note)

    def _note(self, comparison: Comparison, form: str, precision: str) -> str:
        parts = []
        if comparison.verdict == CLOSE and comparison.rounded_digits is not None:
            parts.append(f"agrees to the {comparison.rounded_digits} significant digits written")
        elif comparison.verdict != EXACT:
            parts.append(f"abs diff {format_number(comparison.max_abs_diff, 3)}, "
                         f"rel diff {format_number(comparison.max_rel_diff, 3)}")
        if comparison.worst_index is not None and comparison.verdict == WRONG:
            parts.append(f"worst element {list(comparison.worst_index)}")
        if form in ("elementwise", "diagonal"):
            parts.append(form)
        if precision != "float64" and comparison.verdict != EXACT:
            parts.append(f"{precision} tolerance")
        return "; ".join(parts)

    def _kink_between(self, wrt: int, of: int) -> str | None:
        """A node on a path wrt → of evaluated exactly at a non-differentiable point.

        ``wrt`` itself is left out: its kink concerns its own inputs, which are
        not on the path.
        """
        for index in self.tape.between(wrt, of)[1:]:
            node = self.nodes[index]
            prim = node.primitive
            if prim is None or prim.kink is None:
                continue
            values = [plain_value(v) for v in autodiff.input_values(node)]
            if prim.kink(*values, **(node.params or {})) <= 0.0:
                return self._label(index)
        return None


def _between(value: float, low: float, high: float, atol: float) -> bool:
    slack = atol + 1e-5 * max(1.0, abs(low), abs(high))  # the difference quotients' error
    return low - slack <= value <= high + slack


def _elements(group: list[tuple[int, ...]]) -> str:
    shown = ", ".join(str(list(e)) for e in group[:6])
    return shown + (f" and {len(group) - 6} more" if len(group) > 6 else "")


MAX_PAIRED = 24
"""At most this many elements at a kink are also checked two by two (276 pairs)."""


def _range_text(low: float, high: float) -> str:
    if abs(high - low) <= 1e-5 * max(1.0, abs(low), abs(high)):
        return format_number(low)
    return f"{format_number(low)} to {format_number(high)}"


# --------------------------------------------------------------------------- entry points


def check(subject: Any, claims: Mapping[Any, Any] | None = None, *, rtol: float = 1e-6,
          atol: float = 1e-12, accept_rounded: bool = True) -> CheckReport:
    """Grade hand-derived derivatives against a trace.

    ``subject`` is a :class:`~tracegraph.Trace`, or what
    :func:`tracegraph.script.load_script` returned (its claims are graded,
    plus any given here, whose names may then name versions: ``"dh@12/dx"``).
    ``claims`` maps ``"dS/dG"``, ``"dS_dG"``, ``("S", "G")`` - or, for second
    derivatives, ``"d2y_dx2"``, ``"d2y_dx_dz"``, ``"∂²y/∂x∂z"``,
    ``("y", "x", "z")`` - to the claimed value: a number, an array shaped like
    the node it is taken with respect to (or like the full Jacobian or
    Hessian), or a traced value.

    A claim is ``exact`` when it equals the true derivative up to rounding,
    ``close`` within ``atol + rtol·|true|`` (at least 128 units in the last
    place for float32/float16 values) - or, with ``accept_rounded``, when a
    number written with 3 or more significant digits is the true value
    rounded or truncated to those digits - and ``wrong`` otherwise.

    Example:
        >>> import tracegraph as tg
        >>> def neuron(w, x):
        ...     G = tg.name(w * x, "G")
        ...     S = tg.name(tg.sigmoid(G), "S")
        ...     return tg.name((1.0 - S) ** 2, "Loss")
        >>> t = tg.trace(neuron, w=0.5, x=2.0)
        >>> r = check(t, {"dS_dG": 0.1966, "dG/dw": 2.0, ("Loss", "x"): 1.0}).results
        >>> [(c.name, c.verdict) for c in r]
        [('dS_dG', 'close'), ('dG/dw', 'exact'), ('dLoss/dx', 'wrong')]
    """
    trace, items, source, notes = _subject(subject, claims)
    grader = Grader(trace, rtol, atol, accept_rounded, refs=getattr(subject, "node_id", None))
    results = []
    for name, key, value, lineno, claim in items:
        graded = grader.grade(name, key, value, lineno, claim)
        if isinstance(graded, str):
            notes.append(graded)
        else:
            results.append(graded)
    results = _tied_claims_add_up(grader, results)
    analyst = ChainAnalyst(grader, results)
    # In derivation order, so a claim that only carries the rounding of earlier ones counts
    # as right by the time the claims built on it are analysed.
    analysed = {id(result): _with_chain(result, analyst)
                for result in sorted(results, key=lambda r: r.order)}
    results = [analysed[id(result)] for result in results]
    return CheckReport(results, grader.graph, source, notes)


def _tied_claims_add_up(grader: Grader, results: list[ClaimResult]) -> list[ClaimResult]:
    """Numbers at a kink claimed one by one (``dL_da``, ``dL_db`` for ``max(a, b)`` at a
    tie): each may lie between its two sides, but together they must add up to what
    moving them together gives (1 + 1 is no share of 3's)."""
    groups: dict[str, list[ClaimResult]] = {}
    for result in results:
        if result.verdict == NOT_DIFFERENTIABLE and result.degree == 1 and \
                not np.ndim(result.claimed) and not np.ndim(result.expected):
            groups.setdefault(result.of, []).append(result)
    wrong: dict[int, str] = {}
    for of, group in groups.items():
        if len(group) < 2:
            continue
        total = float(sum(float(r.claimed) for r in group))
        low, high = slopes_together(grader.tape, grader.index(of),
                                    [grader.index(r.wrt) for r in group])
        if not _between(total, low, high, grader.atol):
            names = ", ".join(r.name for r in group)
            note = (f"{names} add up to {format_number(total)}, while moving them together "
                    f"changes {group[0].labels[0]} at {_range_text(low, high)}: at a kink the "
                    "shares of tied inputs must add up to that")
            wrong.update({id(r): note for r in group})
    return [dataclasses.replace(r, verdict=WRONG, holds=False, note=wrong[id(r)])
            if id(r) in wrong else r for r in results]


def check_script(script: Any, *, rtol: float = 1e-6, atol: float = 1e-12,
                 accept_rounded: bool = True) -> CheckReport:
    """Grade the claims of a loaded expression file (:func:`tracegraph.script.load_script`).

    Every assignment ``dY_dX = ...`` (or ``d2Y_dX2``, ``d2Y_dX_dZ``) in the
    file whose names are traced values where it is written is a claim; the
    results carry the line numbers and appear in file order.  Names shaped
    like claims that are not (``dx_dt`` with no traced ``t``) are notes.

    Example:
        >>> import pathlib, tempfile
        >>> from tracegraph.script import load_script
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = path.write_text("x = 3.0\\ny = x * x\\ndy_dx = 2 * x\\n")
        >>> report = check_script(load_script(path))
        >>> report.results[0].where, report.results[0].verdict
        ('dy_dx (line 3)', 'exact')
    """
    return check(script, rtol=rtol, atol=atol, accept_rounded=accept_rounded)


def _is_claim_source(value: Any) -> bool:
    return hasattr(value, "lineno") and hasattr(value, "value") and type(value) is not Var


def _subject(subject: Any, claims: Mapping[Any, Any] | None
             ) -> tuple[Traced, list[tuple[str, Any, Any, int | None, Any]], str | None,
                        list[str]]:
    # Duck-typed: a Trace has .tape and .graph; a loaded script has .trace and .claims.
    items: list[tuple[str, Any, Any, int | None, Any]] = []
    source = None
    notes: list[str] = []
    trace = subject
    if hasattr(subject, "trace") and hasattr(subject, "claims"):
        trace = subject.trace
        source = _display_path(getattr(subject, "path", None))
        for claim in sorted(subject.claims.values(), key=lambda claim: claim.lineno):
            items.append((claim.name, claim.name, claim.value, claim.lineno, claim))
        not_claims = getattr(subject, "not_claims", {}) or {}
        notes.extend(item.describe() for item in
                     sorted(not_claims.values(), key=lambda item: item.lineno))
    if not hasattr(trace, "tape") or not hasattr(trace, "graph"):
        raise TypeError(f"check() needs a Trace or a loaded script, got {type(subject).__name__}")
    for key, value in (claims or {}).items():
        name = key if isinstance(key, str) else _key_name(key)
        if _is_claim_source(value):
            items.append((name, key, value.value, value.lineno, None))
        else:
            items.append((name, key, value, None, None))
    return trace, items, source, notes


def _key_name(key: Any) -> str:
    if isinstance(key, tuple) and len(key) == 2:
        return derivative_text(key[0], (key[1],))
    if isinstance(key, tuple) and len(key) == 3:
        return derivative_text(key[0], (key[1], key[2]))
    return repr(key)


def _display_path(path: Any) -> str | None:
    """The file as the user typed it; outside the working directory just its name,
    so reports carry no absolute paths."""
    if path is None:
        return None
    shown = display_path(path)
    return os.path.basename(shown) if os.path.isabs(shown) else shown


def _with_chain(result: ClaimResult, analyst: ChainAnalyst) -> ClaimResult:
    if result.verdict != WRONG or result.degree != 1:
        return result
    chain = analyst.analyse(result)
    if chain is None:
        return result
    carried = analyst.carried_rounding(result, chain)
    if carried is not None:  # a right step on the user's rounded numbers
        regraded = dataclasses.replace(result, verdict=CLOSE, holds=True, note=carried)
        analyst.regrade(regraded)
        return regraded
    return dataclasses.replace(result, chain=chain)
