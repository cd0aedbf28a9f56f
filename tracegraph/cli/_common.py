"""What every command shares: options, loading a file, errors, output.

Errors become a one-paragraph message and the exit code of their kind
(:mod:`.exit_codes`, docs/cli.md); messages name the library's options as
this command's flags (:data:`FLAG_WORDING`).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..diagram.options import SUFFIX_ALIASES
from ..errors import NonFiniteWarning, OverrideError, TracegraphError, UserCodeError, worded
from ..formula import versioned
from ..graph import display_names
from ..script import (
    HIDDEN_BY_PYTHON,
    ScriptResult,
    load_script,
    output_hidden,
    parse_override,
    require_gradients,
)
from ..trace import Trace
from . import exit_codes
from .exit_codes import CommandError, OutputError

FLAG_WORDING = {
    "override": "--set {}",
    "output": "--output {}",
    "function": "--function {}",
    "values only": "render --show values, export",
    "traceback": "run with --debug for the full traceback",
    "max evaluations": "--max-evaluations {}",
    "every node": "--max-nodes 0",
    "node budget": "--max-nodes {}",
    "focus or path": "--focus/--path",
    "focus": "--focus {}",
    "path": "--path {},{}",
    "draw constants": "--constants",
    "expand": "--expand {}",
}
"""How the command words the library's options in messages (:func:`tracegraph.errors.mention`)."""


# --------------------------------------------------------------------------- options

TRACING = "Tracing the file"
DRAWING = "What to draw"

FileArgument = Annotated[Path, typer.Argument(
    metavar="FILE", show_default=False,
    help="The expression file (.py): plain Python, traced as written.")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", "-s", metavar="NAME=VALUE", show_default=False,
    help="Replace an input's value, e.g. [bold]--set w1=0.5[/] or [bold]--set x='[1, 2]'[/]. "
    "Repeatable.",
    rich_help_panel=TRACING)]
OutputNodeOption = Annotated[str | None, typer.Option(
    "--output", metavar="NAME", show_default=False,
    help="End the trace at this value instead of the one the output rule picks; a version "
    "of a reassigned name is [bold]h@12[/] (assigned on line 12) or [bold]h#2[/].",
    rich_help_panel=TRACING)]
FunctionOption = Annotated[str | None, typer.Option(
    "--function", metavar="NAME", show_default=False,
    help="Trace this function of the file with its [bold]inputs[/] dict (or its defaults).",
    rich_help_panel=TRACING)]
WrtOption = Annotated[str | None, typer.Option(
    "--wrt", metavar="NAMES", show_default=False,
    help="Only the gradients with respect to these inputs (comma-separated: w1,w2).")]
PrecisionOption = Annotated[int | None, typer.Option(
    "--precision", "-p", min=1, max=17, show_default=False,
    help="Significant digits of numbers [dim](default 4)[/].")]
DebugOption = Annotated[bool, typer.Option(
    "--debug", envvar="TRACEGRAPH_DEBUG",
    help="Show the full Python traceback when something goes wrong.")]


def choices(name: str, values: Sequence[str], doc: str) -> type[Enum]:
    """A typer choice type for a vocabulary defined in the library (each value its own name).

    Example:
        >>> Direction = choices("Direction", ("LR", "TB"), "Rank directions.")
        >>> Direction("TB").value, [d.value for d in Direction]
        ('TB', ['LR', 'TB'])
    """
    kind = Enum(name, [(value, value) for value in values], type=str, module=__name__)
    kind.__doc__ = doc
    return kind


def suffix_table(kind: type[Enum]) -> dict[str, Enum]:
    """File suffixes (``.svg``, and aliases such as ``.gv``) → the format they stand for.

    Example:
        >>> Format = choices("Format", ("dot", "json"), "Formats.")
        >>> sorted(suffix_table(Format))
        ['.dot', '.gv', '.json']
    """
    table = {f".{member.value}": member for member in kind}
    for alias, fmt in SUFFIX_ALIASES.items():
        if f".{fmt}" in table:
            table[f".{alias}"] = table[f".{fmt}"]
    return table


# --------------------------------------------------------------------------- consoles


def stdout_console() -> Console:
    """The console for results; wide and uncoloured when stdout is not a terminal."""
    return _console(stderr=False)


def stderr_console() -> Console:
    """The console for messages, warnings and progress."""
    return _console(stderr=True)


def _console(*, stderr: bool) -> Console:
    console = _Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # A pipe or a file: do not wrap tables at 80 columns.
        console = _Console(stderr=stderr, highlight=False, width=200)
    return console


class _Console(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        reader_went_away()


def reader_went_away() -> NoReturn:
    """Stop quietly when the pipe's reader has closed (``tracegraph explain f.py | head``).

    rich and click would exit with 1, which is ``check``'s "a claim is wrong".
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's last flush cannot fail
    raise SystemExit(exit_codes.BROKEN_PIPE)


@contextlib.contextmanager
def progress(message: str, *, runs_user_code: bool = False) -> Iterator[None]:
    """A spinner on stderr while the block runs, only when stderr is a terminal.

    ``runs_user_code``: the block runs the file's own code, which may ask for
    input (``input("n? ")``); then there is no spinner when standard input is a
    terminal, since it would draw over the prompt and the file would look hung.
    """
    console = stderr_console()
    if not console.is_terminal or (runs_user_code and _stdin_is_terminal()):
        yield
        return
    with console.status(escape(message), spinner="dots"):
        yield


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def say(message: str) -> None:
    """A plain status line on stdout (no markup interpretation)."""
    stdout_console().print(Text(message), soft_wrap=True)


def note(message: str) -> None:
    """A secondary line on stderr (notes, warnings)."""
    stderr_console().print(Text(message), soft_wrap=True)


# --------------------------------------------------------------------------- errors


@contextlib.contextmanager
def reporting(debug: bool) -> Iterator[None]:
    """Turn every failure into a readable message and an exit code (a traceback with --debug).

    Inside the block the library's messages name its options as this command's flags.
    """
    try:
        with worded(FLAG_WORDING), warnings.catch_warnings():
            # numpy's divide-by-zero inside a rule is reported as a NonFiniteWarning that
            # names the node; its own warning would point into tracegraph's source
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"tracegraph\.")
            warnings.showwarning = _note_warning(warnings.showwarning)
            yield
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:
        reader_went_away()
    except KeyboardInterrupt:
        note("interrupted")
        raise typer.Exit(exit_codes.INTERRUPTED) from None
    except TracegraphError as err:
        _fail(err, str(err), exit_codes.for_error(err), debug)
    except Exception as err:  # a bug in tracegraph: say so, and how to report it
        message = (f"tracegraph failed unexpectedly: {type(err).__name__}: {err}\n"
                   "  this is a bug in tracegraph, not in your file; please report it with the "
                   "output of the same command run with --debug")
        _fail(err, message, exit_codes.BUG, debug)


def _note_warning(show: Callable[..., None]) -> Callable[..., None]:
    """How the command prints a warning raised outside :func:`load`: tracegraph's own
    (NaN reached a gradient ...) as one ``warning:`` line each, once; others as Python does."""
    shown: set[str] = set()

    def note_warning(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
        if issubclass(category, NonFiniteWarning):
            if str(message) not in shown:
                shown.add(str(message))
                note(f"warning: {message}")
            return
        show(message, category, *args, **kwargs)
    return note_warning


def _fail(err: BaseException, message: str, code: int, debug: bool) -> None:
    console = stderr_console()
    if debug:
        console.print(Text("".join(traceback.format_exception(err)), style="dim"))
    first, _, rest = message.partition("\n")
    text = Text("error: ", style="bold red")
    text.append(first)
    if rest:
        text.append("\n" + rest)
    console.print(text, soft_wrap=True)
    raise typer.Exit(code) from None


# --------------------------------------------------------------------------- loading


def load(file: Path, *, sets: Sequence[str] | None = None, output: str | None = None,
         function: str | None = None, wrt: str | None = None) -> ScriptResult:
    """Trace ``file`` with progress on stderr; the file's prints go to stderr too.

    Warnings raised while tracing (NaN or inf reached the output ...) are
    printed after the trace, once each, then the one-line header saying which
    node is the output and why.  ``wrt`` (``--wrt a,b``) names values that
    must be inputs (an int the file never mixes with traced values is a
    constant otherwise).
    """
    overrides = dict(parse_override(text) for text in sets or ())
    names = [name.strip() for name in (wrt or "").split(",") if name.strip()]
    with progress(f"Tracing {file}", runs_user_code=True), \
            warnings.catch_warnings(record=True) as caught, files_output_to_stderr():
        warnings.simplefilter("always")
        result = load_script(file, overrides=overrides, output=output, function=function,
                             wrt=names)
    for message in dict.fromkeys(_warning_text(w, file) for w in caught):
        if message:
            note(f"warning: {message}")
    note(result.describe_output())
    with progress(f"Building the graph of {file}"):
        _ = result.trace.graph  # built here, once (it is cached), so its progress is shown
    return result


def _warning_text(caught: warnings.WarningMessage, file: Path) -> str:
    """tracegraph's own warnings, and those the file itself raised (with its line); numpy's
    floating-point warnings are left out, since NonFiniteWarning names the node instead."""
    if issubclass(caught.category, NonFiniteWarning):
        return str(caught.message)
    if issubclass(caught.category, HIDDEN_BY_PYTHON):
        return ""
    if Path(caught.filename).resolve() == file.resolve():
        return f"{caught.category.__name__}: {caught.message} (at {file}:{caught.lineno})"
    return ""


@contextlib.contextmanager
def files_output_to_stderr() -> Iterator[None]:
    """The file's output goes to stderr, so stdout holds only the command's (the JSON of
    ``tracegraph export``): its prints, and what it writes to the descriptor itself
    (``os.write(1, ...)``, ``os.system("echo ...")``)."""
    with contextlib.redirect_stdout(sys.stderr):
        try:
            for stream in (sys.__stdout__, sys.stderr):
                if stream is not None:
                    stream.flush()
            saved = os.dup(1)
            os.dup2(2, 1)
        except (OSError, ValueError):  # no descriptors to move (an embedded interpreter)
            yield
            return
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def traced_file(file: Path, *, output: str | None = None, function: str | None = None,
                wrt: str | None = None) -> Callable[..., Trace]:
    """The file as a function of its inputs, for second derivatives (``tg.hessian``,
    ``tg.grad``): it runs again with its inputs replaced by the values given (traced
    values of an enclosing trace), and its own trace stands in for the function
    (``traces_itself``), so its backward pass is recorded by the enclosing trace.
    ``wrt`` as for :func:`load` (``--wrt k`` makes a default argument or an int an input)."""
    names = [name.strip() for name in (wrt or "").split(",") if name.strip()]

    def run(**inputs: Any) -> Trace:
        try:
            with output_hidden():  # load() showed the file's prints once
                return load_script(file, overrides=inputs, output=output,
                                   function=function, wrt=names).trace
        except OverrideError:
            raise CommandError(
                f"{file} traces itself (it calls tracegraph.trace), so tracegraph cannot "
                "run it again with its inputs traced, which second derivatives need",
                hint="let tracegraph trace the file: bind the inputs at the top level "
                "(x = 1.0), or define `inputs = {...}` and the function") from None
        except UserCodeError as err:
            if isinstance(err.__cause__, EOFError):
                raise UserCodeError(
                    err.message, hint="second derivatives run the file once more, and it "
                    "read standard input again: give the value in the file or with --set "
                    "instead") from err.__cause__
            raise

    run.traces_itself = True  # type: ignore[attr-defined]
    return run


def load_with_gradients(file: Path, **options: Any) -> ScriptResult:
    """:func:`load`, then insist the output is a scalar (it has gradients)."""
    result = load(file, **options)
    require_gradients(result)
    return result


def parse_wrt(result: ScriptResult, wrt: str | None) -> list[str] | None:
    """``--wrt w1,w2`` as a list of input names (checked), or ``None`` for all inputs."""
    if wrt is None:
        return None
    names = [name.strip() for name in wrt.split(",") if name.strip()]
    inputs = list(result.trace.inputs)
    for name in names:
        if name not in inputs:
            close = difflib.get_close_matches(name, inputs, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise CommandError(
                f"--wrt {name}: {name!r} is not an input of {result.path}",
                hint=hint + "inputs: " + (", ".join(inputs) or "(none)"))
    if not names:
        raise CommandError("--wrt needs at least one input name, e.g. --wrt w1,w2")
    return names


def check_node(result: ScriptResult, node: str, option: str, graph: Any = None) -> str:
    """``node`` if the graph (default: the file's) has it, else a :class:`CommandError`
    naming the closest ones.  In the file's graph a name means its last version, and
    ``h@12``, ``h#2``, ``h₂`` name the others."""
    if graph is None:
        graph = result.trace.graph
        found = result.node_id(node)
        if found is not None:
            return found
    elif node in graph:
        return node
    nodes = [(str(n), data["label"]) for n, data in graph.nodes(data=True)
             if data["kind"] != "constant"]
    missing = _version_off_the_graph(result, node) if graph is result.trace.graph else None
    if missing is not None:
        meant, lineno, kept = missing
        raise CommandError(
            f"{option} {node}: {meant} (line {lineno}) does not lead to the output "
            f"{display_names(graph)[result.output]}, so it is not in the graph of {result.path}",
            hint=(f"in the graph: {', '.join(kept)}" if kept else "no value of that name "
                  "leads to the output") + "; or pick another output with --output")
    close = difflib.get_close_matches(node, [n for n, _ in nodes], n=3)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    shown = [n if n == label else f"{n} ({label})" for n, label in nodes]
    raise CommandError(f"{option} {node}: there is no node {node!r} in the graph of {result.path}",
                       hint=hint + "nodes: " + _listing(shown))


def _version_off_the_graph(result: ScriptResult, node: str
                           ) -> tuple[str, int, list[str]] | None:
    """For a reference to a value of the file that is not in the graph (``w`` when its last
    version does not lead to the output): its label, its line and the versions of the name
    that are in the graph; None when the file has no such value."""
    meant = result.version_meant(node)
    if meant is None:
        return None
    indices = sorted({v.index for v in result.versions if v.name == meant.name})
    labels = {data["index"]: data["label"] for _, data in result.trace.graph.nodes(data=True)}
    label = (versioned(meant.name, indices.index(meant.index) + 1) if len(indices) > 1
             else meant.name)
    return label, meant.lineno, [labels[i] for i in indices if i in labels]


def _listing(names: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


# --------------------------------------------------------------------------- formatting


_MARKUP_START = re.compile(r"<(?=[A-Za-z/!?])|&(?=[A-Za-z#])")
"""What GitHub markdown would read as raw HTML: a tag, comment or autolink, an entity."""


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub markdown table; ``|`` in cells is escaped and newlines become ``<br>``.

    A ``<`` that would open an HTML tag and a ``&`` that would start an entity are
    written as entities, which every markdown reads (a node named ``<b>`` would
    otherwise vanish into bold), while ``x < 1`` stays as written.

    Example:
        >>> print(markdown_table(["a", "b"], [["1", "x|y"], ["<b>&amp;", "-1 < x < 1"]]))
        | a | b |
        |---|---|
        | 1 | x\\|y |
        | &lt;b>&amp;amp; | -1 < x < 1 |
    """
    def cell(text: str) -> str:
        text = _MARKUP_START.sub(lambda m: "&lt;" if m[0] == "<" else "&amp;",
                                 text.replace("|", "\\|"))
        return text.replace("\n", "<br>")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def check_output_path(path: Path, source: Path, flag: str = "-o",
                      suffix: str = ".svg") -> None:
    """Refuse, before any work, an output the command could not or should not write.

    ``flag`` is the option that named ``path`` (``--render``, ``--history``), so the
    message points at what the user typed; ``suffix`` is the example name's extension.
    """
    if path.exists() and path.is_dir():
        raise OutputError(f"{flag} {path}: this is a folder",
                          hint=f"name the file to write, e.g. {flag} "
                          f"{path / (source.stem + suffix)}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{flag} {path}: the folder {folder} does not exist",
                          hint=f"create it first (mkdir -p {folder}) or write somewhere else; "
                          "tracegraph does not create folders")
    if path.exists() and source.exists() and path.resolve() == source.resolve():
        raise OutputError(f"{flag} {path}: this is the expression file itself; it is never "
                          "overwritten", hint="choose another output name")
    # No format tracegraph writes is Python: a .py target is a typo for another name
    # (or a slip of --format), and writing there would replace someone's source file.
    if path.suffix.lower() in (".py", ".pyw", ".ipynb"):
        raise OutputError(f"{flag} {path}: tracegraph does not write into Python files "
                          f"({path.suffix}), so as not to replace source code",
                          hint="name the file after what it will hold (.svg, .png, .dot, "
                          ".json, .csv ...)")
