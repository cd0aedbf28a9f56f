"""``tracegraph export FILE``: the annotated networkx DAG as data (JSON, GraphML or DOT).

Example:
    >>> SUFFIXES[".graphml"] is DataFormat.graphml, [f.value for f in DataFormat]
    (True, ['json', 'graphml', 'dot'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..diagram.options import DATA_FORMATS
from ..diagram.text import count
from ..graph import json_text, to_graphml, to_node_link
from ..script import ScriptResult
from ._common import (
    CommandError,
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputNodeOption,
    SetOption,
    check_output_path,
    choices,
    load,
    note,
    progress,
    reporting,
    say,
    suffix_table,
)

NAME = "export"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph export examples/neuron.py > neuron.json\n\n"
    "  tracegraph export examples/mlp.py --format graphml -o mlp.graphml\n\n"
    "  tracegraph export examples/neuron.py -o neuron.dot"
)


DEFAULT_MAX_ELEMENTS = 1000
INDENTED_UP_TO = 10_000
"""JSON of bigger graphs is written compact (one line): three times faster to write."""

DataFormat = choices("DataFormat", DATA_FORMATS, "What ``export`` writes.")
SUFFIXES = suffix_table(DataFormat)


def command(
    file: FileArgument,
    data_format: Annotated[DataFormat | None, typer.Option(
        "--format", "-f", show_default=False,
        help="json (node-link, every attribute), graphml (scalars and text) or dot (the full "
        "diagram as Graphviz source) [dim](default: from -o's extension, else json)[/].")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="PATH", show_default=False,
        help="Write to this file instead of printing to stdout (- is stdout).")] = None,
    max_elements: Annotated[int, typer.Option(
        "--max-elements", min=0, metavar="N",
        help="JSON: an array with more elements is written as a summary (shape, dtype, min, "
        "max, mean, norm, first elements).")] = DEFAULT_MAX_ELEMENTS,
    every_element: Annotated[bool, typer.Option(
        "--all", help="JSON: every element of every array, however big (overrides "
        "--max-elements).")] = False,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    debug: DebugOption = False,
) -> None:
    """Export the traced graph as data: nodes with op, value, grad; edges with local derivatives.

    JSON is networkx's node-link format (read it back with
    tracegraph.graph.from_json); the schema is documented in tracegraph/graph.py.
    Arrays over --max-elements elements are summarised unless --all.
    Without -o the data goes to stdout, so it can be piped.

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> square = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = square.write_text("x = 3.0\\ny = x * x\\n")
        >>> import json
        >>> data = json.loads(CliRunner().invoke(app, ["export", str(square)]).stdout)
        >>> [(node["id"], node["value"], node["grad"]) for node in data["nodes"]]
        [('x', 3.0, 6.0), ('y', 9.0, 1.0)]
    """
    with reporting(debug):
        if out is not None and str(out) == "-":
            out = None  # the usual spelling of stdout
        chosen = _format(data_format, out)
        if out is not None:
            check_output_path(out, file, suffix="." + chosen.value)
        result = load(file, sets=sets, output=output, function=function)
        limit = None if every_element else max_elements
        with progress(f"Writing {chosen.value}"):
            text, summarised = _serialise(result, chosen, limit)
        if out is None:
            typer.echo(text, nl=not text.endswith("\n"))
        else:
            out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            say(f"wrote {out} ({chosen.value}: {result.trace.graph.number_of_nodes()} nodes, "
                f"{result.trace.graph.number_of_edges()} edges)")
        if summarised:
            note(f"note: {count(summarised, 'array')} over {limit:,} elements written as "
                 "summaries (shape, dtype, min, max, mean, norm, first elements); --all writes "
                 "every element, --max-elements N sets the limit")


def _format(data_format: DataFormat | None, out: Path | None) -> DataFormat:
    if out is None or not out.suffix:
        return data_format or DataFormat.json
    inferred = SUFFIXES.get(out.suffix.lower())
    if data_format is None:
        if inferred is None:
            raise CommandError(
                f"-o {out}: cannot tell the format from {out.suffix!r}",
                hint="use .json, .graphml or .dot, or pass --format json|graphml|dot")
        return inferred
    if inferred is not None and inferred is not data_format:
        raise CommandError(
            f"-o {out} looks like {inferred.value}, but --format is {data_format.value}",
            hint=f"name the file {out.with_suffix('.' + data_format.value)}, or drop --format")
    return data_format


def _serialise(result: ScriptResult, data_format: DataFormat, max_elements: int | None
               ) -> tuple[str, int]:
    """The text, and how many arrays it summarises."""
    graph = result.trace.graph
    if data_format is DataFormat.json:
        data = to_node_link(graph, max_elements=max_elements)
        summarised = data["graph"].get("summarised_arrays", 0)
        indent = 1 if graph.number_of_nodes() <= INDENTED_UP_TO else None
        return json_text(data, indent=indent), summarised
    if data_format is DataFormat.graphml:
        return to_graphml(graph), 0
    from ..diagram import to_dot

    return to_dot(result.trace, max_nodes=None), 0
