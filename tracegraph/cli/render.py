"""``tracegraph render FILE``: write the chain-rule diagram (SVG, PNG, PDF, DOT or JSON).

The choices of ``--format``, ``--show`` and ``--rankdir`` are the diagram's own
vocabularies (:mod:`tracegraph.diagram.options`).

Example:
    >>> ImageFormat("png") in NEEDS_DOT, SUFFIXES[".gv"].value, [mode.value for mode in Show]
    (True, 'dot', ['all', 'values', 'grads', 'local', 'flow', 'tangent'])
"""

from __future__ import annotations

import difflib
import math
import re
import shutil
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..diagram.options import FORMATS, IMAGE_FORMATS, MIN_BUDGET, RANKDIRS, SHOW_MODES
from ..diagram.view import drawable_count
from ..errors import GraphvizNotFoundError, TracegraphError
from ..formula import partial
from ..graph import display_names
from ..numbers import format_number, value_summary
from ..script import ScriptResult, parse_override, require_gradients
from ._common import (
    DRAWING,
    CommandError,
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputNodeOption,
    PrecisionOption,
    SetOption,
    WrtOption,
    check_node,
    check_output_path,
    choices,
    load,
    note,
    parse_wrt,
    progress,
    reporting,
    say,
    suffix_table,
    traced_file,
)

NAME = "render"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph render examples/neuron.py                  [dim]# writes neuron.svg[/]\n\n"
    "  tracegraph render examples/neuron.py -o out/neuron.png --show grads\n\n"
    "  tracegraph render examples/mlp.py --rankdir TB --max-nodes 40\n\n"
    "  tracegraph render examples/neuron.py --path w1,Loss --set w1=0.1\n\n"
    "  tracegraph render examples/neuron.py -f dot           [dim]# no Graphviz needed[/]\n\n"
    "  tracegraph render examples/neuron.py --backward       [dim]# neuron_backward.svg[/]\n\n"
    "  tracegraph render examples/neuron.py --tangent w1     [dim]# forward mode: ∂node/∂w1[/]"
)


ImageFormat = choices(
    "ImageFormat", IMAGE_FORMATS + tuple(f for f in FORMATS if f not in IMAGE_FORMATS),
    "What ``render`` writes; svg, png and pdf need Graphviz's ``dot``.")
Show = choices("Show", SHOW_MODES, "What the diagram shows (DiagramOptions.show).")
Direction = choices("Direction", RANKDIRS, "Graphviz rank direction: left to right or top to "
                    "bottom.")
NEEDS_DOT = {ImageFormat(fmt) for fmt in IMAGE_FORMATS}
SUFFIXES = suffix_table(ImageFormat)


def _drawing(*flags: str, help: str, metavar: str | None = None) -> Any:
    return typer.Option(*flags, metavar=metavar, show_default=False, help=help,
                        rich_help_panel=DRAWING)


OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="PATH", show_default=False,
    help="Where to write [dim](default: FILE's name with the format's extension, in the "
    "current folder)[/].")]
FormatOption = Annotated[ImageFormat | None, typer.Option(
    "--format", "-f", show_default=False,
    help="svg, png, pdf (need Graphviz), dot or json [dim](default: from -o's extension, "
    "else svg)[/].")]
ShowOption = Annotated[Show | None, _drawing(
    "--show", help="all; values; grads (dOutput/dnode); local (∂child/∂parent on the edges); "
    "flow (upstream × local on the edges); tangent (forward mode, with --tangent) "
    "[dim](default all)[/].")]
RankdirOption = Annotated[Direction | None, _drawing(
    "--rankdir", help="LR (left to right) or TB (top to bottom) [dim](default LR)[/].")]
MaxNodesOption = Annotated[int | None, _drawing(
    "--max-nodes", metavar="N",
    help="Node budget: larger graphs collapse scopes and repeats into boxes; 0 draws every "
    "node [dim](default 200)[/].")]
FocusOption = Annotated[str | None, _drawing(
    "--focus", metavar="NODE", help="Draw only this node and what it is computed from.")]
PathOption = Annotated[str | None, _drawing(
    "--path", metavar="FROM[,TO]",
    help="Draw only the nodes on paths from FROM to TO [dim](default TO: the output)[/].")]
ExpandOption = Annotated[list[str] | None, _drawing(
    "--expand", metavar="SCOPE",
    help="Keep this scope open when the graph is over budget. Repeatable.")]
ConstantsOption = Annotated[bool | None, _drawing(
    "--constants/--no-constants",
    help="Draw constants (literal numbers, data arrays) as nodes [dim](default: yes)[/].")]
LegendOption = Annotated[bool | None, _drawing(
    "--legend/--no-legend", help="Draw the legend [dim](default: yes)[/].")]
TitleOption = Annotated[str | None, _drawing(
    "--title", metavar="TEXT", help="A title above the diagram.")]
BackwardOption = Annotated[bool, _drawing(
    "--backward", help="Draw the backward pass as its own graph: the computation of the "
    "gradient (of --wrt inputs, default all), one node per upstream × local product and per "
    "sum, each with its value [dim](default file: FILE_backward.svg)[/].")]
TangentOption = Annotated[list[str] | None, _drawing(
    "--tangent", "-t", metavar="NAME[=VALUE]",
    help="Forward mode: push this tangent from an input (NAME alone means NAME=1) and show "
    "every node's tangent, d(node)/d(NAME), with --show tangent (the default then) or all. "
    "Repeatable: the tangents add up to a direction.")]
GRADIENTS_LISTED = 10
"""The report lists this many gradients; the rest are counted (explain and export list all)."""


def command(
    file: FileArgument,
    out: OutOption = None,
    image_format: FormatOption = None,
    show: ShowOption = None,
    rankdir: RankdirOption = None,
    precision: PrecisionOption = None,
    max_nodes: MaxNodesOption = None,
    focus: FocusOption = None,
    path: PathOption = None,
    expand: ExpandOption = None,
    constants: ConstantsOption = None,
    legend: LegendOption = None,
    title: TitleOption = None,
    backward: BackwardOption = False,
    tangent: TangentOption = None,
    wrt: WrtOption = None,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    debug: DebugOption = False,
) -> None:
    """Draw the traced graph: each node's value and dOutput/dnode, each edge's local derivative.

    Writes FILE's diagram and prints where.  SVG, PNG and PDF are drawn by
    Graphviz's `dot` program; .dot and .json need no Graphviz.

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> square = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = square.write_text("x = 3.0\\ny = x * x\\n")
        >>> dot = square.with_suffix(".dot")
        >>> result = CliRunner().invoke(app, ["render", str(square), "-o", str(dot)])
        >>> result.stdout.splitlines()[1], dot.read_text()[:7]
        ('  ∂y/∂x = 6', 'digraph')
    """
    with reporting(debug):
        if out is not None and str(out) == "-":
            raise CommandError(
                "-o -: render writes a file and prints a report, so it cannot write the "
                "diagram to stdout", hint="name a file (-o neuron.svg), or print the DOT "
                f"source with: tracegraph export {file} --format dot")
        if out is not None:
            check_output_path(out, file, suffix=f".{image_format.value}" if image_format
                              else ".svg")
        # a default name of its own, so a forward-mode or backward picture does not
        # replace the plain render of the same file
        fmt, target = _destination(file, out, image_format,
                                   "_backward" if backward else "_tangent" if tangent else "")
        check_output_path(target, file)
        if fmt in NEEDS_DOT and shutil.which("dot") is None:
            article = "an" if fmt is ImageFormat.svg else "a"
            raise GraphvizNotFoundError(what=f"{article} {fmt.value.upper()} image")
        chosen_show = show.value if show else None
        if tangent and chosen_show is None:
            chosen_show = Show.tangent.value
        _check_tangent_options(chosen_show, tangent, backward)
        result = load(file, sets=sets, output=output, function=function, wrt=wrt)
        names = parse_wrt(result, wrt)
        if chosen_show != Show.values.value or backward:
            require_gradients(result)
        drawn = None
        seed = _tangent_seed(result, tangent) if tangent else None
        if seed is not None:
            drawn = _tangent_graph(result, seed)
        if backward:
            if chosen_show in BACKWARD_NO_SHOW:
                raise CommandError(
                    f"--backward --show {chosen_show}: the backward pass is drawn with its "
                    "values; it has no gradients of its own to show",
                    hint="use --show all (values and local derivatives), values or local")
            drawn = _backward_graph(file, result, names, output=output, function=function)
            title = title or _backward_title(result)
        options = _options(result, show=chosen_show, rankdir=rankdir and rankdir.value,
                           precision=precision, max_nodes=max_nodes, focus=focus, path=path,
                           expand=expand, show_constants=constants, legend=legend, title=title,
                           graph=drawn)
        notes = _render(drawn if drawn is not None else result.trace.graph, target, fmt, options)
        _report(result, target, names, precision or 4, notes, drawn if backward else None)
        if seed is not None:
            _report_forward(result, drawn, seed, precision or 4)


def _destination(file: Path, out: Path | None, image_format: ImageFormat | None,
                 suffix: str = "") -> tuple[ImageFormat, Path]:
    """The format and the path to write, from -o and --format (they must agree)."""
    if out is None:
        fmt = image_format or ImageFormat.svg
        return fmt, Path(f"{file.stem}{suffix}.{fmt.value}")
    inferred = SUFFIXES.get(out.suffix.lower())
    if image_format is None:
        if inferred is None:
            what = f"the extension {out.suffix!r}" if out.suffix else "a name with no extension"
            raise CommandError(
                f"-o {out}: cannot tell the format from {what}",
                hint="end the name with .svg, .png, .pdf, .dot or .json, or pass --format")
        return inferred, out
    if inferred is not None and inferred is not image_format:
        raise CommandError(
            f"-o {out} looks like {inferred.value}, but --format is {image_format.value}",
            hint=f"name the file {out.with_suffix('.' + image_format.value)}, or drop --format")
    return image_format, out


def _options(result: ScriptResult, *, path: str | None, focus: str | None,
             max_nodes: int | None, expand: list[str] | None, graph: Any = None,
             **given: Any) -> dict[str, Any]:
    """Diagram overrides for the options given on the command line (the rest keep defaults);
    ``--focus``/``--path`` name nodes of ``graph`` (default: the file's graph)."""
    options = {key: value for key, value in given.items() if value is not None}
    graph = result.trace.graph if graph is None else graph
    if max_nodes is not None:
        if max_nodes != 0 and max_nodes < MIN_BUDGET:
            raise CommandError(
                f"--max-nodes {max_nodes}: a diagram needs room for at least "
                f"{MIN_BUDGET} boxes", hint=f"use --max-nodes {MIN_BUDGET} or more, or "
                "--max-nodes 0 to draw every node")
        options["max_nodes"] = max_nodes or None
    if focus is not None:
        options["focus"] = check_node(result, focus, "--focus", graph)
    if path is not None:
        start, _, end = path.partition(",")
        options["path"] = (check_node(result, start.strip(), "--path", graph),
                           check_node(result, end.strip() or graph.graph["output"], "--path",
                                      graph))
    if expand:
        options["expand"] = frozenset(expand)
    return options


def _render(graph: Any, target: Path, fmt: ImageFormat, overrides: dict[str, Any]
            ) -> list[str]:
    """Write the file; return the diagram's notes (what was collapsed or filtered, and how
    to see it)."""
    from ..diagram import DiagramOptions, build_diagram, render

    options = DiagramOptions(**overrides)
    with progress(f"Drawing {target}"):
        if fmt is ImageFormat.json:  # the graph as data: nothing is collapsed
            render(graph, target, format=fmt.value, options=options)
            return []
        diagram = build_diagram(graph, options)
        render(diagram, target, format=fmt.value)
    return list(diagram.notes)


BACKWARD_NO_SHOW = ("grads", "flow")
"""Show modes the backward pass cannot take: its nodes have values, not gradients."""


def _backward_graph(file: Path, result: ScriptResult, wrt: list[str] | None, *,
                    output: str | None, function: str | None) -> Any:
    """The graph of the backward pass (values only): the file traced once more with its
    inputs traced, so its backward pass is recorded (:func:`tracegraph.calculus.trace_backward`)."""
    from ..calculus import trace_backward
    from ..graph import build_graph

    with progress(f"Tracing the backward pass of {file}", runs_user_code=True):
        traced = trace_backward(traced_file(file, output=output, function=function,
                                            wrt=",".join(wrt or ())), wrt,
                                **result.inputs)
    with progress("Building its graph"):
        graph = build_graph(traced.tape)
    graph.graph["backward_of"] = display_names(result.trace.graph)[result.output]
    return graph


def _check_tangent_options(show: str | None, tangent: list[str] | None, backward: bool) -> None:
    if show == Show.tangent.value and not tangent:
        raise CommandError("--show tangent needs the tangent to push forward",
                           hint="add --tangent NAME (an input, tangent 1) or --tangent NAME=VALUE")
    if tangent and backward:
        raise CommandError("--tangent and --backward draw different graphs",
                           hint="draw the forward-mode tangents and the backward pass "
                           "separately")
    if tangent and show is not None and show not in (Show.tangent.value, Show.all.value):
        raise CommandError(f"--tangent with --show {show}: tangents are shown by --show tangent "
                           "or --show all", hint="drop --show, or use --show all")


def _tangent_seed(result: ScriptResult, given: list[str]) -> dict[str, Any]:
    """``--tangent x``, ``--tangent w=0.5`` as ``{input: tangent}`` (checked)."""
    seed: dict[str, Any] = {}
    inputs = list(result.trace.inputs)
    for text in given:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if name not in inputs:
            close = difflib.get_close_matches(name, inputs, n=1)
            raise CommandError(f"--tangent {text}: {name!r} is not an input of {result.path}",
                               hint=(f"did you mean {close[0]}? " if close else "")
                               + "inputs: " + (", ".join(inputs) or "(none)"))
        try:
            value = parse_override(f"{name}={raw}")[1] if sep else 1.0
        except TracegraphError:
            raise CommandError(f"--tangent {text}: the tangent must be a number or a list of "
                               "numbers", hint="e.g. --tangent x, --tangent x=0.5 or "
                               "--tangent w='[1, 0]'") from None
        shape = np.shape(result.trace.inputs[name])
        if np.ndim(value) and np.shape(value) != shape:
            raise CommandError(f"--tangent {text}: {name} has shape {shape}, the tangent "
                               f"{np.shape(value)}", hint="give one number (every element) or "
                               "a list of the input's shape")
        seed[name] = value
    return seed


def _tangent_graph(result: ScriptResult, seed: dict[str, Any]) -> Any:
    from ..calculus import tangent_graph

    with progress("Pushing the tangents forward"):
        return tangent_graph(result.trace, seed)


def _report_forward(result: ScriptResult, graph: Any, seed: dict[str, Any],
                    precision: int) -> None:
    """The output's tangent (forward mode) next to the same number from reverse mode."""
    out_label = display_names(result.trace.graph)[result.output]
    forward = graph.nodes[result.output]["tangent"]
    grads = result.trace.grads
    reverse = math.fsum(float(np.sum(np.asarray(grads[name]) * np.asarray(value, dtype=float)))
                        for name, value in seed.items())
    (name, value), = list(seed.items())[:1] or [(None, None)]
    if len(seed) == 1 and np.ndim(value) == 0 and float(value) == 1.0 and \
            not np.ndim(result.trace.inputs[name]):
        what = partial(out_label, name)  # a scalar input moved at unit speed
    elif len(seed) == 1 and np.ndim(value) == 0:
        what = (f"the derivative of {out_label} with every element of {name} moving at "
                f"speed {format_number(float(value), precision)}")
    else:
        what = f"the derivative of {out_label} along the tangents"
    agree = bool(np.isclose(forward, reverse, rtol=1e-9, atol=1e-12))
    say(f"forward mode: {what} = {value_summary(forward, precision)} (one pass per input "
        f"direction); reverse mode: {value_summary(reverse, precision)} (one pass for all "
        f"inputs)  {'✓ equal' if agree else '✗ different'}")


def _backward_title(result: ScriptResult) -> str:
    out = display_names(result.trace.graph)[result.output]
    return f"The backward pass of {out}: computing its gradient, step by step"


def _report(result: ScriptResult, target: Path, wrt: list[str] | None, precision: int,
            notes: list[str], drawn: Any = None) -> None:
    trace = result.trace
    graph = trace.graph if drawn is None else drawn
    out_label = display_names(trace.graph)[result.output]
    if drawn is None:
        say(f"wrote {target}: {drawable_count(graph):,} nodes, "
            f"{out_label} = {value_summary(trace.value, precision)}")
    else:
        say(f"wrote {target}: the backward pass of {out_label}, {drawable_count(graph):,} "
            "nodes")
    if trace.differentiated:
        grads = trace.grads
        names = wrt or list(grads)
        for name in names[:GRADIENTS_LISTED]:
            say(f"  {partial(out_label, name)} = {value_summary(grads[name], precision)}")
        if len(names) > GRADIENTS_LISTED:
            say(f"  … and {len(names) - GRADIENTS_LISTED:,} more gradients (tracegraph explain "
                "or export lists them all)")
    for line in notes:
        note(f"note: {as_command_line(line)}")


_OPTION_WORDING = (
    (re.compile(r"\bshow_constants=True\b"), "--constants"),
    (re.compile(r"\bmax_nodes=None\b"), "--max-nodes 0"),
    (re.compile(r"\bmax_nodes=(\d+)"), r"--max-nodes \1"),
    (re.compile(r"\bfocus=/path="), "--focus/--path"),
    (re.compile(r"\b(focus|path|expand)=(?=[\s,;)'\"{]|$)"), r"--\1"),
    (re.compile(r"\bdrop (focus|path)\b"), r"drop --\1"),
)


def as_command_line(text: str) -> str:
    """A diagram note with the library's option names spelled as this command's flags.

    Example:
        >>> as_command_line("max_nodes=None draws every node; drop focus to see all")
        '--max-nodes 0 draws every node; drop --focus to see all'
    """
    for pattern, replacement in _OPTION_WORDING:
        text = pattern.sub(replacement, text)
    return text
