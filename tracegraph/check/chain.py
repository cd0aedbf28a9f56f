"""Chain analysis: why a wrong end-to-end claim is wrong, and which step broke it.

A claim such as ``dLoss/dw1`` is a product of chain-rule factors along
every path from ``w1`` to ``Loss`` (summed over the paths).  The paths run
through the named nodes (and the nodes the user's claims mention); each
factor is looked up among the user's other claims, and the first wrong one
in derivation order is the step where the error was made.

Example:
    >>> import tracegraph as tg
    >>> from tracegraph.check import check
    >>> def f(x):
    ...     y = tg.name(x * 3.0, "y")
    ...     return tg.name(y * y, "z")
    >>> report = check(tg.trace(f, x=1.0), {"dz_dy": 6.0, "dy_dx": 2.0, "dz_dx": 12.0})
    >>> report.results[2].chain.first_broken.claim
    'dy_dx'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from ..core import shape_of
from ..numbers import format_number, value_summary
from ..verdicts import CLOSE, EXACT, NO_PATH, SHAPE
from .compare import compare
from .results import Chain, ChainPath, ChainStep, ClaimResult, in_shape

if TYPE_CHECKING:
    from .claims import Grader

LONG_CHAIN = 8
"""Chains with more factors are summarised (in reports) and valued only where claimed."""

_MAX_CHAIN_PATHS = 20
_MAX_RAW_PATHS = 2000
_MAX_SUBSET_PATHS = 6
"""A claim with up to this many paths is compared with the sum over each subset of them."""
PATH_WORK = 200_000
"""Steps a chain analysis may take looking for paths (a loop of 100,000 steps has paths
that long); past it the analysis says the chain is too long instead of hanging."""


def _dag_paths(graph: Any, between: list[str], source: str, target: str
               ) -> Iterator[list[str] | None]:
    """Every path ``source`` → ``target`` through the nodes ``between`` (the graph is a
    DAG, so every path is simple), depth first; ``None`` once :data:`PATH_WORK` is spent."""
    inside = set(between)
    successors = {node: [child for child in graph.successors(node) if child in inside]
                  for node in between}
    path, pending, work = [source], [iter(successors.get(source, ()))], 0
    while pending:
        child = next(pending[-1], None)
        if child is None:
            pending.pop()
            path.pop()
            continue
        work += 1
        if work > PATH_WORK:
            yield None
            return
        if child == target:
            work += len(path)
            yield [*path, target]
            continue
        path.append(child)
        pending.append(iter(successors.get(child, ())))


class ChainAnalyst:
    """Explains a wrong multi-step claim through the user's other claims.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.check.claims import Grader
        >>> t = tg.trace(lambda x: tg.name(tg.name(x * 3.0, "y") * 2.0, "z"), x=1.0)
        >>> grader = Grader(t, 1e-6, 1e-9, True)
        >>> wrong = grader.grade("dz_dx", "dz_dx", 5.0, None)
        >>> ChainAnalyst(grader, [wrong]).analyse(wrong).explanation[:40]
        'no claimed step along the chain is wrong'
    """

    def __init__(self, grader: Grader, results: Sequence[ClaimResult]) -> None:
        self.grader = grader
        self.graph = grader.graph
        graph = self.graph
        # Chains run through the graph: first-order claims about the nodes it shows.
        self.by_pair = {(r.of, r.wrt): r for r in results if r.of is not None and r.degree == 1
                        and r.of in graph and r.wrt in graph}
        self.claimed_of: dict[str, list[str]] = {}
        for of, wrt in self.by_pair:
            self.claimed_of.setdefault(wrt, []).append(of)
        claimed_nodes = {n for pair in self.by_pair for n in pair}
        self.stations = {node for node, data in self.graph.nodes(data=True)
                         if data["name"] is not None or node in claimed_nodes}

    def label(self, node: str) -> str:
        """How text names a node: its label (versions read ``h₂``)."""
        return self.graph.nodes[node]["label"] if node in self.graph else node

    def text(self, of: str, wrt: str) -> str:
        """``dh₂/dx`` for two nodes."""
        return f"d{self.label(of)}/d{self.label(wrt)}"

    def analyse(self, result: ClaimResult) -> Chain | None:
        """The chain of a wrong claim (``None`` when it is a single step)."""
        if (result.of, result.wrt) not in self.by_pair:
            return None
        paths, truncated = self._station_paths(result.wrt, result.of)
        if not paths and truncated:
            return Chain((), None, True, (
                f"the chain from {self.label(result.wrt)} to {self.label(result.of)} is too "
                "long to follow step by step; claim a derivative between them to find the "
                "wrong step"))
        if not paths or all(len(path) == 2 for path in paths):
            return None
        own = (result.of, result.wrt)
        chain_paths = tuple(ChainPath(path, tuple(self._steps(path, own))) for path in paths)
        # A claim with the right values in another shape (verdict "shape") breaks nothing.
        broken = [step for path in chain_paths for step in path.steps
                  if step.claimed and not self.by_pair[(step.of, step.wrt)].holds
                  and self.by_pair[(step.of, step.wrt)].verdict != SHAPE]
        missing = None if truncated else self._missing_paths(result, chain_paths)
        if missing is not None and broken and self._built_on_a_wrong_claim(result, chain_paths):
            missing = None  # dL_dc * dc_da with dc_da the partial: it inherits that error
        if missing is not None:
            # The claim is some of the paths' sum: a path was left out, whatever else is
            # wrong on the chain (the claim was not built on it).
            return Chain(chain_paths, None, truncated, missing)
        first = min(broken, key=self._order) if broken else None
        own_error = self._own_error(result) if first is not None and first.factor else None
        return Chain(chain_paths, first, truncated,
                     self._explain(result, chain_paths, first, own_error), own_error)

    def _missing_paths(self, result: ClaimResult, paths: tuple[ChainPath, ...]) -> str | None:
        """When a number claimed for a derivative with several paths is the sum over
        only some of them (the partial ∂c/∂a of the edge claimed for the total dc/da, or
        a chain rule that follows one of a node's uses), which paths it leaves out."""
        if not 1 < len(paths) <= _MAX_SUBSET_PATHS or result.claimed is None or \
                np.ndim(result.claimed) or np.ndim(result.expected):
            return None
        values = []
        for path in paths:
            product = 1.0
            for step in path.steps:
                if step.factor:
                    if step.expected is None:
                        return None
                    product *= step.expected
            values.append(product)
        grader = self.grader
        for size in range(1, len(paths)):
            for kept in itertools.combinations(range(len(paths)), size):
                total = sum(values[i] for i in kept)
                if compare(result.claimed, total, grader.rtol, grader.atol,
                           grader.accept_rounded).verdict not in (EXACT, CLOSE):
                    continue
                left = [i for i in range(len(paths)) if i not in kept]
                listed = ", ".join(
                    f"{self._path_text(paths[i])} ({format_number(values[i])})" for i in left)
                some = ", ".join(self._path_text(paths[i]) for i in kept)
                return (f"the claim is only the path{'s' if size > 1 else ''} {some}; "
                        f"{'it misses' if len(left) == 1 else 'they miss'} {listed}: "
                        f"{self.text(result.of, result.wrt)} is the total derivative, the sum "
                        "over every path")
        return None

    def _built_on_a_wrong_claim(self, result: ClaimResult, paths: tuple[ChainPath, ...]
                                ) -> bool:
        """True when the claim is what the user's claims give, a wrong one among them."""
        grader = self.grader
        for value, used in self._users_values(result, Chain(paths, None, False, "")):
            if any(not claim.holds for claim in used) and compare(
                    result.claimed, value, grader.rtol, grader.atol,
                    grader.accept_rounded).verdict in (EXACT, CLOSE):
                return True
        return False

    def _path_text(self, path: ChainPath) -> str:
        return " ← ".join(self.label(node) for node in path.nodes[::-1])

    def regrade(self, result: ClaimResult) -> None:
        """Use ``result`` from now on for its pair (a claim found to carry rounding)."""
        if (result.of, result.wrt) in self.by_pair:
            self.by_pair[(result.of, result.wrt)] = result

    def carried_rounding(self, result: ClaimResult, chain: Chain) -> str | None:
        """Why a claim that misses the true value is nevertheless right: it is what the
        user's own claims give (the product of the claimed factors, or a claimed partial
        result times the steps after it), and some of those are rounded (``close``), so
        it carries their rounding.  ``None`` when that is not so.

        Only for chains with no wrong step: a right step on rounded numbers is a right
        step (``dLoss_dG = dLoss_dS * dS_dG`` with ``dS_dG = 0.2445``; an array claim
        ``ds_dx = ds_dz * w`` with a rounded number ``ds_dz``).
        """
        if chain.first_broken is not None or result.claimed is None or chain.truncated:
            return None
        grader = self.grader
        for value, used in self._users_values(result, chain):
            rounded = [claim for claim in used if claim.verdict == CLOSE]
            if not rounded or not all(claim.holds for claim in used):
                continue
            if compare(result.claimed, value, grader.rtol, grader.atol,
                       False).verdict not in (EXACT, CLOSE):
                continue
            names = ", ".join(claim.where for claim in rounded)
            return (f"follows from the claims before it ({names} "
                    f"{'is' if len(rounded) == 1 else 'are'} rounded) and carries their "
                    f"rounding: rel diff {format_number(result.max_rel_diff, 2)}")
        return None

    def _users_values(self, result: ClaimResult, chain: Chain
                      ) -> Iterator[tuple[float, list[ClaimResult]]]:
        """What the user's claims give for the claim, with the claims each value used:
        the sum over the paths of the claimed factors (true ones where not claimed), then
        each claimed partial result d of/d node times the steps from node to wrt."""
        if np.ndim(result.claimed) or np.ndim(result.expected):
            yield from self._scaled_by_a_partial(result)
            return
        total, used = 0.0, []
        for path in chain.paths:
            product = 1.0
            for step in path.steps:
                if not step.factor:
                    continue
                if not self._one_step(step.wrt, step.of):
                    total = None  # a claim there is a total, not this path's factor
                    break
                claim = self.by_pair.get((step.of, step.wrt)) if step.claimed else None
                if claim is not None and claim.claimed is not None and \
                        not np.ndim(claim.claimed):
                    product *= float(claim.claimed)
                    used.append(claim)
                elif step.expected is not None:
                    product *= step.expected
                else:
                    total = None
                    break
            if total is None:
                break
            total += product
        if total is not None:
            yield total, used
        for (of, node), claim in self.by_pair.items():
            if of != result.of or node == result.wrt or claim.claimed is None or \
                    np.ndim(claim.claimed) or not self.grader.influences(node, result.wrt) \
                    or not self._every_path_through(result.wrt, node, result.of):
                continue
            step = self._users_step(result.wrt, node)
            if step is not None:
                yield float(claim.claimed) * step, [claim, *self._claims_on(result.wrt, node)]

    def _scaled_by_a_partial(self, result: ClaimResult
                             ) -> Iterator[tuple[Any, list[ClaimResult]]]:
        """For an array claim: the true derivative with one claimed number d of/d node
        (node a number every path passes through) in place of its true value."""
        for (of, node), claim in self.by_pair.items():
            if of != result.of or node == result.wrt or claim.claimed is None or \
                    np.ndim(claim.claimed) or claim.expected is None or \
                    np.ndim(claim.expected) or float(claim.expected) == 0.0 or \
                    not self.grader.influences(node, result.wrt) or \
                    not self._every_path_through(result.wrt, node, result.of):
                continue
            ratio = float(claim.claimed) / float(claim.expected)
            yield np.asarray(result.expected, dtype=float) * ratio, [claim]

    def _claims_on(self, wrt: str, node: str) -> list[ClaimResult]:
        total = self.by_pair.get((node, wrt))
        if total is not None and total.claimed is not None and not np.ndim(total.claimed):
            return [total]  # what :meth:`_users_step` takes for the steps from wrt to node
        paths, _ = self._station_paths(wrt, node)
        return [claim for path in paths[:1] for low, high in zip(path, path[1:])
                if (claim := self.by_pair.get((high, low))) is not None]

    def _station_paths(self, source: str, target: str) -> tuple[list[tuple[str, ...]], bool]:
        found: dict[tuple[str, ...], None] = {}
        truncated = False
        # Only nodes between the two can be on a path (read off the record); without the
        # others the search never wanders into branches that cannot reach the target.
        ids = self.grader.ids
        between = [ids[i] for i in self.grader.tape.between(self.grader.index(source),
                                                             self.grader.index(target))
                   if i in ids]
        paths = _dag_paths(self.graph, between, source, target)
        for count, path in enumerate(paths):
            if path is None or count >= _MAX_RAW_PATHS or len(found) >= _MAX_CHAIN_PATHS:
                truncated = True
                break
            found[tuple(n for n in path if n in self.stations or n in (source, target))] = None
        return list(found), truncated

    def _steps(self, path: tuple[str, ...], own: tuple[str, str]) -> Iterator[ChainStep]:
        """The factors of ``path`` and the user's partial results on it, output first.

        ``own`` is the analysed claim's pair: where it is also a one-edge path (a node
        that feeds the output directly and through others), that edge's factor is the
        local derivative, not the claim itself, so it counts as not claimed."""
        last = len(path) - 1
        position = {node: i for i, node in enumerate(path)}
        # Values of unclaimed factors are shown only for short chains; each costs a pass.
        with_values = last <= LONG_CHAIN
        for low in range(last - 1, -1, -1):
            yield self._step(path[low + 1], path[low], True, with_values,
                             claimed=(path[low + 1], path[low]) != own)
            partials = sorted(
                (position[of], of) for of in self.claimed_of.get(path[low], ())
                if position.get(of, -1) > low + 1 and (low, position[of]) != (0, last))
            for _, of in partials:
                yield self._step(of, path[low], False, with_values)

    def _step(self, of: str, wrt: str, factor: bool, with_values: bool,
              claimed: bool = True) -> ChainStep:
        claim = self.by_pair.get((of, wrt)) if claimed else None
        if claim is not None and factor and not self._one_step(wrt, of):
            # ``dc_da`` with ``a`` reaching ``c`` directly and through ``b`` is the total
            # over both routes; the factor of the direct one is another number.
            claim = None
        if claim is not None and claim.expected is not None and not np.ndim(claim.expected):
            expected = float(claim.expected)
        else:
            expected = self._scalar_derivative(of, wrt) if with_values else None
        return ChainStep(of, wrt, claim.name if claim else None,
                         claim.verdict if claim else "not claimed", expected,
                         self.grader.formula(of, wrt), claim.lineno if claim else None, factor)

    def _scalar_derivative(self, of: str, wrt: str) -> float | None:
        """The factor d of / d wrt of a chain step between two stations: the derivative
        along the routes that pass no other station (``None`` when that is not the
        total derivative, or an end is an array)."""
        of_index, wrt_index = self.grader.index(of), self.grader.index(wrt)
        nodes = self.grader.nodes
        if shape_of(nodes[of_index].value) or shape_of(nodes[wrt_index].value):
            return None
        edges = self.graph.get_edge_data(wrt, of)
        between = self.grader.tape.between(wrt_index, of_index)
        if edges and len(between) <= 2 and \
                all(data["local"] is not None for data in edges.values()):
            # Joined only by edges: the graph holds the local derivatives (one per edge).
            return float(sum(data["local"] for data in edges.values()))
        if not self._one_step(wrt, of):
            # another station is on a route: the total is not this factor
            return self._route_value(wrt, of, between)
        return self.grader.derivatives.scalar(of_index, wrt_index)

    def _route_value(self, wrt: str, of: str, between: list[int]) -> float | None:
        """d of/d wrt along the routes that pass no other station: the sum over those
        routes of the product of the edges' local derivatives (``None`` when a node or a
        local derivative on them is not a number)."""
        ids, nodes = self.grader.ids, self.grader.nodes
        value = {wrt: 1.0}
        for index in between:  # in the record's order, so parents come first
            node = ids.get(index)
            if node is None or node == wrt or (node in self.stations and node != of):
                continue
            total = 0.0
            for parent, _, data in self.graph.in_edges(node, data=True):
                if parent not in value:
                    continue
                local = data["local"]
                if local is None or np.ndim(local) or shape_of(nodes[index].value):
                    return None
                total += value[parent] * float(local)
            value[node] = total
        return value.get(of)

    def _one_step(self, wrt: str, of: str) -> bool:
        """True when every route from ``wrt`` to ``of`` passes no other station, so the
        total derivative d of/d wrt (a claim of it) is this one factor."""
        paths, truncated = self._station_paths(wrt, of)
        return not truncated and paths == [(wrt, of)]

    def _order(self, step: ChainStep) -> tuple[int, int]:
        return self.by_pair[(step.of, step.wrt)].order

    def _explain(self, result: ClaimResult, paths: tuple[ChainPath, ...],
                 first: ChainStep | None, own_error: str | None) -> str:
        target = self.text(result.of, result.wrt)
        if first is not None:
            return self._explain_break(target, first, own_error)
        factors = [step for path in paths for step in path.steps if step.factor]
        missing = list(dict.fromkeys(self.text(s.of, s.wrt) for s in factors if not s.claimed))
        if missing:
            listed = ", ".join(missing[:LONG_CHAIN]) + (
                f" and {len(missing) - LONG_CHAIN:,} more" if len(missing) > LONG_CHAIN else "")
            known = [step for step in factors if not step.claimed and step.expected is not None]
            if len(known) == len([step for step in factors if not step.claimed]) and \
                    len(missing) <= LONG_CHAIN and result.expected is not None and \
                    not np.ndim(result.expected):
                # With the true values of the unclaimed factors the chain gives the true
                # derivative: the slip is in one of them or in putting the factors together.
                values = ", ".join(dict.fromkeys(
                    f"{self.text(s.of, s.wrt)} = {format_number(s.expected)}" for s in known))
                return (f"no claimed step along the chain is wrong, but {listed} "
                        f"{'is' if len(missing) == 1 else 'are'} not claimed (true: {values}; "
                        f"with {'it' if len(missing) == 1 else 'them'} the factors give "
                        f"{format_number(result.expected)}): compare with your "
                        f"{'value' if len(missing) == 1 else 'values'}, or look for a factor "
                        "left out or one too many")
            return (f"no claimed step along the chain is wrong, but {listed} "
                    f"{'is' if len(missing) == 1 else 'are'} not claimed: claim "
                    f"{'it' if len(missing) == 1 else 'them'} to find the wrong step")
        if len(paths) > 1:
            return (f"every factor is right, and {target} is the sum over {len(paths)} paths "
                    "(a node feeds several others): a path is missing or the sum is wrong")
        return f"every factor is right, so the product of the factors of {target} is wrong"

    def _explain_break(self, target: str, first: ChainStep, own_error: str | None) -> str:
        claim = self.by_pair[(first.of, first.wrt)]
        if first.factor:
            text = (f"{target} inherits the error of {claim.where}, the first wrong step "
                    "on this chain")
            return f"{text}; {own_error}" if own_error else text
        text = (f"the first wrong step on this chain is {claim.where}: claimed "
                f"{claim.claimed_text()}, true {self.text(first.of, first.wrt)} = "
                f"{claim.expected_text()}")
        inner = self._last_right_partial(first)
        if inner is not None:
            text += (f"; {self.text(first.of, inner)} is right, so the error is in the step "
                     f"from {self.label(inner)} to {self.label(first.wrt)}")
        return text

    def _own_error(self, result: ClaimResult) -> str | None:
        """A second mistake hidden behind an inherited one: the claim does not follow
        from the user's own partial result nearest its input (claimed d of/d node times
        d node/d wrt as the user has it, see :meth:`_users_step`), so the steps from that
        node on are wrong too.

        Only for numbers, and a node every path from the input to the output passes
        through (otherwise the product is one term of the derivative, not all of it).
        """
        if result.claimed is None:
            return None
        if np.ndim(result.claimed) or np.ndim(result.expected):
            return self._own_array_error(result)
        grader = self.grader
        partials = sorted(
            (grader.index(node), node, claim) for (of, node), claim in self.by_pair.items()
            if of == result.of and node != result.wrt and claim.claimed is not None
            and not np.ndim(claim.claimed) and grader.influences(node, result.wrt)
            and grader.influences(result.of, node))
        for _, node, claim in partials:
            if not self._every_path_through(result.wrt, node, result.of):
                continue
            # The steps from node to wrt as the user has them (their claims where they made
            # one, dS_dG, wrong or not: that is its own verdict), else the true ones.
            step = self._users_step(result.wrt, node)
            if step is None:
                return None
            follows = float(claim.claimed) * step
            if compare(result.claimed, follows, grader.rtol, grader.atol,
                       grader.accept_rounded).verdict in (EXACT, CLOSE):
                return None
            return (f"besides, it does not follow from {claim.where}: "
                    f"{claim.claimed_text()} · {self.text(node, result.wrt)} "
                    f"= {format_number(follows)}, not {result.claimed_text()}, so the step from "
                    f"{self.label(node)} to {self.label(result.wrt)} is wrong too")
        return None

    def _own_array_error(self, result: ClaimResult) -> str | None:
        """:meth:`_own_error` for the gradient of a scalar: the user's claimed gradient
        with respect to the node nearest the input that every path passes, carried on to
        the input by the true steps (a VJP seeded with it), against the claim."""
        grader = self.grader
        of_index = grader.index(result.of)
        if of_index is None or shape_of(grader.nodes[of_index].value):
            return None
        partials = sorted(
            (grader.index(node), node, claim) for (of, node), claim in self.by_pair.items()
            if of == result.of and node != result.wrt and claim.claimed is not None
            and claim.verdict != SHAPE and grader.influences(node, result.wrt)
            and grader.influences(result.of, node))
        wrt_index = grader.index(result.wrt)
        for index, node, claim in partials:
            if not self._every_path_through(result.wrt, node, result.of):
                continue
            segment = {grader.ids[i] for i in grader.tape.between(wrt_index, index)
                       if i in grader.ids}
            if any(low in segment and high in segment for high, low in self.by_pair
                   if (high, low) != (result.of, result.wrt)):
                continue  # the user has their own steps there (dh_dz): the true ones are not theirs
            node_value = grader.nodes[index].value
            if np.shape(claim.claimed) != shape_of(node_value):
                return None
            if shape_of(node_value):
                follows = grader.derivatives.seeded(index, wrt_index,
                                                    np.asarray(claim.claimed, dtype=float))
            else:
                follows = float(claim.claimed) * np.asarray(grader.derivatives.scalar(
                    index, wrt_index))
            if np.shape(follows) != np.shape(result.expected):
                return None
            if compare(in_shape(result.claimed, np.shape(follows)), follows, grader.rtol,
                       grader.atol, grader.accept_rounded).verdict in (EXACT, CLOSE):
                return None
            return (f"besides, it does not follow from {claim.where}: carried to "
                    f"{self.label(result.wrt)} through {self.text(node, result.wrt)} it gives "
                    f"{value_summary(follows)}, not {value_summary(result.claimed)}, so the "
                    f"step from {self.label(node)} to {self.label(result.wrt)} is wrong too")
        return None

    def _users_step(self, wrt: str, node: str) -> float | None:
        """d node / d wrt along the one path of named nodes between them, each factor the
        user's claim where they made one, else the true value (None with several paths or
        an array on the way)."""
        total = self.by_pair.get((node, wrt))
        if total is not None and total.claimed is not None and not np.ndim(total.claimed):
            return float(total.claimed)  # the user's own d node/d wrt, over every route
        paths, truncated = self._station_paths(wrt, node)
        if truncated or len(paths) != 1:
            return None
        product = 1.0
        path = paths[0]
        for low, high in zip(path, path[1:]):
            claim = self.by_pair.get((high, low))
            if claim is not None and claim.claimed is not None and not np.ndim(claim.claimed):
                product *= float(claim.claimed)
                continue
            factor = self._scalar_derivative(high, low)
            if factor is None:
                return None
            product *= float(factor)
        return product

    def _every_path_through(self, source: str, node: str, target: str) -> bool:
        around = nx.restricted_view(self.graph, [node], [])
        return not nx.has_path(around, source, target)

    def _last_right_partial(self, step: ChainStep) -> str | None:
        """The node nearest ``step.wrt`` whose partial result d of/d node holds."""
        best, best_index = None, -1
        for (of, wrt), claim in self.by_pair.items():
            if of == step.of and wrt != step.wrt and claim.holds and claim.verdict != NO_PATH:
                index = -claim.order[0]
                if index > best_index and self.grader.influences(wrt, step.wrt) and \
                        self._every_path_through(step.wrt, wrt, step.of):
                    best, best_index = wrt, index
        return best
