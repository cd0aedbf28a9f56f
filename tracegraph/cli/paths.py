"""``tracegraph paths FILE --from NAME``: the chain rule as a sum over paths.

Paths are counted and summed by dynamic programming over the graph, never by
listing them (their number grows exponentially with depth); only the ``--limit``
largest shares are listed, found the same way (:class:`tracegraph.paths.PathsBetween`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import networkx as nx
import numpy as np
import typer

from ..errors import NotDifferentiatedError
from ..formula import partial
from ..graph import display_names
from ..numbers import count_text, counted, value_summary
from ..paths import PathsBetween
from ..script import ScriptResult
from ._common import (
    CommandError,
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputNodeOption,
    PrecisionOption,
    SetOption,
    check_node,
    load_with_gradients,
    progress,
    reporting,
    say,
)

NAME = "paths"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph paths examples/neuron.py --from x1\n\n"
    "  tracegraph paths examples/neuron.py --from w1 --to S\n\n"
    "  tracegraph paths examples/mlp.py --from W1 --limit 5"
)
DEFAULT_LIMIT = 20
FACTORS_SHOWN = 12
"""A longer path shows its first and last FACTORS_SHOWN / 2 local derivatives."""

Edge = tuple[str, str, int]


def command(
    file: FileArgument,
    source: Annotated[str, typer.Option(
        "--from", metavar="NAME", show_default=False,
        help="The node the paths start from (usually an input).")],
    target: Annotated[str | None, typer.Option(
        "--to", metavar="NAME", show_default=False,
        help="The node the paths end at [dim](default: the output)[/].")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", "-k", min=1, metavar="K",
        help="List the K paths with the largest shares; the others are counted and summed, "
        "not listed.")] = DEFAULT_LIMIT,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    precision: PrecisionOption = None,
    debug: DebugOption = False,
) -> None:
    """The chain rule as a sum over paths: the strongest paths between two nodes, and the sum.

    Along each path the local derivatives multiply (the chain rule); the
    products of all paths add up to the derivative (the multivariable chain
    rule).  Paths are counted and summed without listing them, so this works
    on any trace; the --limit paths with the largest |product| are listed,
    largest first.  The sum and the derivative from the backward pass are
    both printed, so you can see they agree.

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> square = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = square.write_text("x = 3.0\\ny = x * x\\n")
        >>> out = CliRunner().invoke(app, ["paths", str(square), "--from", "x"]).stdout
        >>> print(out.splitlines()[0]); print(out.splitlines()[-1])
        2 chain-rule paths from x to y:
        ∂y/∂x from the backward pass = 6  ✓ equal
    """
    with reporting(debug):
        result = load_with_gradients(file, sets=sets, output=output, function=function)
        source = check_node(result, source, "--from")
        target = check_node(result, target, "--to") if target else result.output
        _check_ends(result, source, target)
        with progress("Counting paths"):
            report = _Report(result, source, target, limit, precision or 4)
        report.print()


def _check_ends(result: ScriptResult, source: str, target: str) -> None:
    nodes = result.trace.graph.nodes
    for option, node in (("--from", source), ("--to", target)):
        if nodes[node]["kind"] == "constant":
            raise CommandError(f"{option} {node}: {node!r} is a constant; it has no derivative",
                               hint="choose an input or a computed node")
    shape = nodes[target]["shape"]
    if shape:
        raise NotDifferentiatedError(
            f"--to {target}: {target!r} has shape {shape}, so its derivative is a Jacobian, "
            "not a sum of numbers", hint="choose a scalar node (the output is the default)")


class _Report:
    """Everything ``paths`` prints, computed before anything is printed."""

    def __init__(self, result: ScriptResult, source: str, target: str, limit: int,
                 precision: int) -> None:
        self.graph = graph = result.trace.graph
        self.label = display_names(graph)
        self.source, self.target, self.limit, self.precision = source, target, limit, precision
        self.what = partial(self.label[target], self.label[source])
        between = PathsBetween(graph, source, target)
        self.count = between.count()
        self.total = between.total() if self.count else 0.0
        # Numbers on every edge: rank by share.  Arrays on the way: shares are
        # Jacobian products, so the first paths found are listed, with formulas only.
        self.scalar = self.total is not None
        if not self.count or source == target:
            self.shown: list[tuple[list[Edge], float | None]] = []
        elif self.scalar:
            self.shown = list(between.strongest(limit))
        else:
            self.shown = [(path, _share(graph, path)) for path in between.first(limit)]
        self.derivative = _derivative(result, source, target) if self.count else None

    def print(self) -> None:
        label, what = self.label, self.what
        if self.source == self.target:
            say(f"{what} = 1: a node's derivative with respect to itself (no edges to follow).")
            return
        if not self.count:
            say(f"{label[self.source]} does not lead to {label[self.target]}: no path, "
                f"so {what} = 0.")
            return
        say(self._heading())
        for number, (path, share) in enumerate(self.shown, 1):
            say("")
            say(f"{number:>3}. " + _route(path, label, self.graph))
            for line in self._factor_lines(path):
                say("       " + line)
            say("       " + self._product(path, share))
        say("")
        self._summary()

    def _heading(self) -> str:
        between = f"from {self.label[self.source]} to {self.label[self.target]}"
        paths = f"{counted(self.count, 'chain-rule path')} {between}"
        if len(self.shown) == self.count:
            return f"{paths}:"
        if self.scalar:
            return (f"{paths}; the {len(self.shown)} with the largest shares "
                    f"(|product of local derivatives|), largest first (--limit K lists more):")
        return f"{paths}; the first {len(self.shown)} (--limit K lists more):"

    def _factor_lines(self, path: list[Edge]) -> list[str]:
        graph, label, precision = self.graph, self.label, self.precision
        lines = [_factor_line(graph.edges[edge], label[edge[1]], label[edge[0]], precision)
                 for edge in _elided(path)]
        if len(path) > FACTORS_SHOWN:
            half = FACTORS_SHOWN // 2
            lines.insert(half, f"… {len(path) - FACTORS_SHOWN:,} more local derivatives …")
        return lines

    def _product(self, path: list[Edge], share: float | None) -> str:
        if share is None:
            return "(arrays on this path: its share is a product of Jacobians, not a number)"
        if not self.scalar:  # a path of numbers among paths through arrays
            return f"product = {value_summary(share, self.precision)}"
        if len(path) > FACTORS_SHOWN:
            return (f"product of the {len(path):,} local derivatives = "
                    f"{value_summary(share, self.precision)}")
        locals_ = [self.graph.edges[edge]["local"] for edge in path]
        product = " × ".join(_factor(v, self.precision) for v in locals_)
        if len(locals_) > 1:
            product += f" = {value_summary(share, self.precision)}"
        return f"product = {product}"

    def _summary(self) -> None:
        precision, what = self.precision, self.what
        backward = (f"{what} from the backward pass = {value_summary(self.derivative, precision)}"
                    if self.derivative is not None else "")
        if not self.scalar:
            say(backward)
            return
        rest = self.count - len(self.shown)
        if rest:
            shown = math.fsum(share for _, share in self.shown)
            say(f"the {len(self.shown)} paths shown add up to {value_summary(shown, precision)}; "
                f"the other {count_text(rest)} to {value_summary(self.total - shown, precision)}")
            say(f"sum over all {count_text(self.count)} paths = "
                f"{value_summary(self.total, precision)} "
                "(by dynamic programming, without listing them)")
        else:
            say(f"sum over all paths = {value_summary(self.total, precision)}")
        agree = self.derivative is not None and bool(
            np.isclose(self.total, self.derivative, rtol=1e-9, atol=1e-12))
        say(backward + ("  ✓ equal" if agree else "  ✗ different"))


def _elided(path: list[Edge]) -> list[Edge]:
    if len(path) <= FACTORS_SHOWN:
        return path
    half = FACTORS_SHOWN // 2
    return path[:half] + path[-half:]


def _route(path: list[Edge], label: dict[str, str], graph: nx.MultiDiGraph) -> str:
    steps = [label[path[0][0]]]
    for parent, child, key in path:
        parallel = graph.number_of_edges(parent, child) > 1
        steps.append(label[child] + (f" (as argument {key + 1})" if parallel else ""))
    if len(steps) > FACTORS_SHOWN:
        half = FACTORS_SHOWN // 2
        steps = steps[:half] + [f"… {len(steps) - FACTORS_SHOWN:,} more nodes …"] + steps[-half:]
    return " → ".join(steps)


def _factor_line(edge: dict[str, Any], child: str, parent: str, precision: int) -> str:
    """``∂A/∂x1 = w1 = 0.5`` (the value is left out when it is the formula itself)."""
    text = f"{partial(child, parent)} = {edge['formula']}"
    if edge["local"] is None:
        return text
    number = value_summary(edge["local"], precision)
    return text if edge["formula"].replace("−", "-") == number else f"{text} = {number}"


def _factor(value: float, precision: int) -> str:
    text = value_summary(value, precision)
    return f"({text})" if value < 0 else text


def _derivative(result: ScriptResult, source: str, target: str) -> Any:
    if target == result.output:
        return result.trace.graph.nodes[source]["grad"]
    return result.trace.derivative(target, source) if result.trace.influences(target, source) \
        else None


def _share(graph: Any, path: list[Edge]) -> float | None:
    """The product of a path's local derivatives when each is a number (None when an
    array is on the way)."""
    share = 1.0
    for edge in path:
        local = graph.edges[edge]["local"]
        if local is None:
            return None
        share *= local
    return share
