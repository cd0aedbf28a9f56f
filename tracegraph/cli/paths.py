"""``tracegraph paths FILE --from NAME``: the chain rule as a sum over paths."""

from __future__ import annotations

import math
from typing import Annotated, Any

import networkx as nx
import numpy as np
import typer

from ..errors import NotDifferentiatedError
from ..formula import partial
from ..graph import chain_paths, display_names
from ..numbers import value_summary
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
DEFAULT_LIMIT = 50
COUNT_AT_MOST = 1000

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
        "--limit", min=1, help="Show at most this many paths.")] = DEFAULT_LIMIT,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    precision: PrecisionOption = None,
    debug: DebugOption = False,
) -> None:
    """List every chain-rule path between two nodes and check that they add up to the gradient.

    Along each path the local derivatives multiply (the chain rule); the
    products of all paths add up to the derivative (the multivariable chain
    rule).  Both the sum and the derivative from the backward pass are
    printed, so you can see they agree.

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
        target = check_node(result, target or result.output, "--to")
        _check_ends(result, source, target)
        _report(result, source, target, limit, precision or 4)


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


def _report(result: ScriptResult, source: str, target: str, limit: int, precision: int) -> None:
    graph = result.trace.graph
    label = display_names(graph)
    what = partial(label[target], label[source])
    if source == target:
        say(f"{what} = 1: a node's derivative with respect to itself (no edges to follow).")
        return
    found = chain_paths(graph, source, target, limit=max(limit + 1, COUNT_AT_MOST))
    derivative = _derivative(result, source, target)
    if not found:
        say(f"{label[source]} does not lead to {label[target]}: no path, so {what} = 0.")
        return
    shown = found[:limit]
    say(_count(found, limit, f"from {label[source]} to {label[target]}"))
    shares = []
    for number, path in enumerate(shown, 1):
        say("")
        say(f"{number:>3}. " + _route(path, label, graph))
        locals_ = [graph.edges[edge]["local"] for edge in path]
        for parent, child, key in path:
            edge = graph.edges[parent, child, key]
            say("       " + _factor_line(edge, label[child], label[parent], precision))
        if any(local is None for local in locals_):
            say("       (arrays on this path: its share is a product of Jacobians, not a number)")
            shares.append(None)
            continue
        share = math.prod(locals_)
        shares.append(share)
        product = " × ".join(_factor(v, precision) for v in locals_)
        if len(locals_) > 1:
            product += f" = {value_summary(share, precision)}"
        say(f"       product = {product}")
    say("")
    _summary(shares, len(found) > limit, derivative, what, precision)


def _count(found: list[list[Edge]], limit: int, between: str) -> str:
    total = len(found)
    if total >= COUNT_AT_MOST:
        return (f"{COUNT_AT_MOST:,}+ chain-rule paths {between}; showing the first {limit} "
                "(use --limit N to see more):")
    if total > limit:
        return (f"{total:,} chain-rule paths {between}; showing the first {limit} "
                f"(use --limit {total} to see all):")
    return f"{total} chain-rule path{'s' if total != 1 else ''} {between}:"


def _route(path: list[Edge], label: dict[str, str], graph: nx.MultiDiGraph) -> str:
    steps = [label[path[0][0]]]
    for parent, child, key in path:
        parallel = graph.number_of_edges(parent, child) > 1
        steps.append(label[child] + (f" (as argument {key + 1})" if parallel else ""))
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


def _summary(shares: list[float | None], partial_sum: bool, derivative: Any, what: str,
             precision: int) -> None:
    backward = (f"{what} from the backward pass = {value_summary(derivative, precision)}"
                if derivative is not None else "")
    if any(share is None for share in shares):
        say(backward)
        return
    total = math.fsum(shares)
    if partial_sum:
        say(f"sum over the {len(shares)} paths shown = {value_summary(total, precision)} "
            "(only part of the sum: raise --limit to see every path)")
        say(backward)
        return
    agree = derivative is not None and np.isclose(total, derivative, rtol=1e-9, atol=1e-12)
    say(f"sum over all paths = {value_summary(total, precision)}")
    say(backward + ("  ✓ equal" if agree else "  ✗ different"))
