"""From an expression (a file, or code written in a page) to what a page shows.

:func:`draw` traces the expression as ``tracegraph render`` would, grades its
claims when asked, builds the diagram and the chain-rule table and, when asked
for an image, lays the diagram out as inline themable SVG - or takes all of
it from the cache.  What a page must warn about (a wrong claim, a NaN, a
warning raised by the file, a missing ``dot``) comes back as
:class:`Problem` values; what stops the drawing is a :class:`DrawingError`
carrying tracegraph's one-paragraph message.  Nothing here knows about
Sphinx or Markdown.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "square.py").write_text("x = 3.0\\ny = x * x\\n")
    >>> drawing = draw(Source.file(folder / "square.py", name="square.py"), EmbedOptions(),
    ...                cache=Cache(None), image=None)
    >>> drawing.alt, [row[0] for row in drawing.table.rows]
    ('Chain-rule diagram of square.py: y = 9', ['x', 'y'])
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..check import check_script
from ..diagram import Diagram, DiagramOptions, build_diagram, svg
from ..diagram.inline import inline_svg
from ..diagram.view import select
from ..errors import (
    GraphvizNotFoundError,
    NonFiniteWarning,
    TracegraphError,
    display_path,
    worded,
)
from ..graph import display_names
from ..numbers import value_summary
from ..script import HIDDEN_BY_PYTHON, ScriptResult, load_script, require_gradients
from .cache import Cache, digest, fingerprint, recording_reads
from .options import EmbedOptions
from ..table import ChainRuleTable, chain_rule_table

DEFAULT_BUDGET = DiagramOptions().max_nodes
PROBLEM_KINDS = ("claims", "nonfinite", "warning", "dot")


@dataclass(frozen=True)
class Source:
    """What to trace: a file (``path``), or ``code`` written in a page.

    ``name`` is how messages call it (the path as the page wrote it, or
    ``page.md, the tracegraph block``); for code, ``first_line`` is the page
    line of its first line, so errors point into the page.

    Example:
        >>> Source.inline("x = 1.0", name="index.md", first_line=7).first_line
        7
    """

    path: Path | None = None
    code: str | None = None
    name: str = ""
    first_line: int = 1

    @classmethod
    def file(cls, path: str | os.PathLike, name: str | None = None) -> Source:
        path = Path(path)
        return cls(path=path, name=name or display_path(path))

    @classmethod
    def inline(cls, code: str, *, name: str, first_line: int = 1) -> Source:
        return cls(code=code, name=name, first_line=first_line)


@dataclass(frozen=True)
class Problem:
    """Something the page should warn about: ``kind`` is one of :data:`PROBLEM_KINDS`;
    ``line`` is a page line when the problem is inside inline code.

    Example:
        >>> Problem("claims", "2 claims: 1 exact, 1 wrong").kind
        'claims'
    """

    kind: str
    message: str
    line: int | None = None


class DrawingError(TracegraphError):
    """The expression could not be drawn; ``line`` is the page line for inline code.

    Example:
        >>> DrawingError("no such file", line=3).line
        3
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


@dataclass(frozen=True)
class Drawing:
    """What a page shows for one expression.

    Attributes:
        key: the cache key (a hex digest).
        dot: the diagram as DOT text.
        svg: inline themable SVG markup (ids start with ``tg-``), or None when no
            image was asked for or ``dot`` is missing.
        table: the chain-rule table.
        alt: the text alternative of the picture.
        problems: what the page should warn about.
        dependencies: the files the picture depends on (the expression file and the
            files it read).
        from_cache: True when nothing was traced or laid out.

    Example:
        >>> d = draw(Source.inline("x = 2.0\\ny = x * x\\n", name="p"), EmbedOptions(),
        ...          cache=Cache(None), image=None)
        >>> d.dot.startswith("digraph"), d.svg, d.from_cache
        (True, None, False)
    """

    key: str
    dot: str
    svg: str | None
    table: ChainRuleTable
    alt: str
    problems: tuple[Problem, ...]
    dependencies: tuple[str, ...]
    from_cache: bool


def draw(source: Source, options: EmbedOptions, *, cache: Cache,
         image: str | None = "svg") -> Drawing:
    """Trace, check and draw ``source`` (or take it from ``cache``).

    ``image="svg"`` also lays the diagram out as inline SVG; ``None`` stops at
    the DOT text (a LaTeX or text build).  Raises :class:`DrawingError`.

    Example:
        >>> import pathlib, tempfile
        >>> code = "w = 2.0\\nLoss = w * w\\ndLoss_dw = 3 * w\\n"
        >>> drawing = draw(Source.inline(code, name="page.md", first_line=10),
        ...                EmbedOptions(check=True), cache=Cache(None), image=None)
        >>> print(drawing.problems[0].message.replace("; ", "\\n"))
        page.md: 1 claim: 1 wrong
        first wrong step: dLoss_dw (line 12): claimed 6, true dLoss/dw = w + w = 4
    """
    path, content = _located(source, cache)
    key = digest(json.dumps({"fingerprint": fingerprint(), "path": str(path.resolve()),
                             "name": source.name, "first_line": source.first_line,
                             "content": digest(content), "options": options.canonical()},
                            sort_keys=True))
    entry = cache.get(key)
    cached = entry is not None
    if entry is None:
        relocate = _Relocation(source, path)
        try:
            entry = _trace_and_build(path, source, options, relocate)
        except TracegraphError as err:
            raise DrawingError(relocate.text(str(err)), line=relocate.line(str(err))) from err
        except Exception as err:  # a bug in tracegraph: say so, never a bare traceback
            raise DrawingError(
                f"tracegraph failed unexpectedly while drawing {source.name}: "
                f"{type(err).__name__}: {err}\n  this is a bug in tracegraph, not in your "
                "file; please report it with the file and the options") from err
    laid_out = False
    problems = [Problem(*p) for p in entry["problems"]]
    if image == "svg" and entry["svg"] is None:
        try:
            entry["svg"] = inline_svg(svg(Diagram(entry["dot"])), alt=entry["alt"])
            laid_out = True
        except GraphvizNotFoundError as err:
            problems.append(Problem("dot", "drawing the diagram needs Graphviz's `dot` program, "
                                    "which is not installed (or not on PATH); the page shows "
                                    f"the chain-rule table and the DOT source instead\n  how "
                                    f"to fix: {graphviz_hint(err)}"))
    if not cached or laid_out:
        cache.put(key, entry, dependencies=entry["reads"])
    own = [str(source.path.resolve())] if source.path is not None else []
    return Drawing(key=key, dot=entry["dot"], svg=entry["svg"],
                   table=ChainRuleTable.from_json(entry["table"]), alt=entry["alt"],
                   problems=tuple(problems), dependencies=tuple(own + entry["reads"]),
                   from_cache=cached and not laid_out)


# --------------------------------------------------------------------------- tracing


def _located(source: Source, cache: Cache) -> tuple[Path, bytes]:
    """The file to trace and its bytes; inline code is written to a file first."""
    if source.path is not None:
        if not source.path.is_file():
            try:  # load_script says what is wrong (missing, a folder ...) and how to fix it
                load_script(source.path)
            except TracegraphError as err:
                raise DrawingError(str(err)) from err
        try:
            return source.path, source.path.read_bytes()
        except OSError as err:
            raise DrawingError(f"cannot read {source.name}: {err.strerror}") from None
    content = (source.code or "").encode("utf-8")
    folder = cache.folder / "code" if cache.folder is not None else Path(
        tempfile.gettempdir()) / "tracegraph-code"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"block_{digest(content)[:16]}.py"
    if not path.exists() or path.read_bytes() != content:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
    return path, content


OPTION_WORDING = {
    "traceback": "running the code with `python` shows the full traceback",
    "override": "set: {}",
    "output": "output: {}",
    "function": "function: {}",
    "values only": "show: values",
    "every node": "max-nodes: 0",
    "node budget": "max-nodes: {}",
    "focus or path": "focus: or path:",
    "focus": "focus: {}",
    "path": "path: {},{}",
    "draw constants": "dropping no-constants",
    "expand": "expand: {}",
    "no graphviz": "",  # a page cannot choose to write .dot or .json
}
"""How messages and diagram notes on a docs page name the options: as the directive's
(``:max-nodes: 0``) and the fence's (``max-nodes="0"``) options, not the library's; and
what a docs author can do where the library would point at Python (``__cause__``)."""

def graphviz_hint(err: GraphvizNotFoundError) -> str:
    """The missing-``dot`` hint for a docs author: how to install Graphviz, without the
    command line's advice to write ``.dot`` / ``.json`` (a page cannot choose its format).

    Example:
        >>> hint = graphviz_hint(GraphvizNotFoundError())
        >>> "apt-get install graphviz" in hint, ".json" in hint
        (True, False)
    """
    with worded(OPTION_WORDING):
        return GraphvizNotFoundError().hint


def _trace_and_build(path: Path, source: Source, options: EmbedOptions,
                     relocate: _Relocation) -> dict[str, Any]:
    problems: list[Problem] = []
    with _captured(path, source, relocate, problems), worded(OPTION_WORDING), \
            recording_reads(ignore=[path]) as reads:
        result = load_script(path, overrides=options.overrides(), output=options.output,
                             function=options.function)
        if options.show != "values" or options.check or options.expect_wrong:
            require_gradients(result)
        marks = _claims(result, source, options, problems, relocate) if (
            options.check or options.expect_wrong) else {}
        diagram = build_diagram(result.trace, _diagram_options(result, options, marks))
        graph = result.trace.graph
        wrt = [_input(result, name) for name in options.wrt]
        table = chain_rule_table(graph, result.output, wrt=wrt, precision=options.precision)
        out_label = display_names(graph)[result.output]
        alt = options.alt or (f"Chain-rule diagram of {source.name}: {out_label} = "
                              f"{value_summary(result.trace.value, options.precision)}")
    return {"dot": diagram.dot, "svg": None, "table": table.to_json(), "alt": alt,
            "problems": [[p.kind, p.message, p.line] for p in problems], "reads": list(reads)}


@contextlib.contextmanager
def _captured(path: Path, source: Source, relocate: _Relocation,
              problems: list[Problem]) -> Iterator[None]:
    """The file's prints are dropped (a page is no place for them); NaN/inf warnings and
    the warnings the file raises become problems, except those ``python FILE`` hides."""
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        yield
    seen = set()
    for warning in caught:
        if issubclass(warning.category, NonFiniteWarning):
            problem = Problem("nonfinite", f"{source.name}: {warning.message}")
        elif issubclass(warning.category, HIDDEN_BY_PYTHON):
            continue  # `python FILE` does not show them either
        elif Path(warning.filename).resolve() == path.resolve():
            line = relocate.page_line(warning.lineno)
            where = f"line {warning.lineno}" if source.path is not None else f"line {line}"
            problem = Problem("warning", f"{source.name}, {where}: "
                              f"{warning.category.__name__}: {warning.message}", line)
        else:
            continue  # numpy's floating-point warnings: NonFiniteWarning names the node
        if problem not in seen:
            seen.add(problem)
            problems.append(problem)


def _claims(result: ScriptResult, source: Source, options: EmbedOptions,
            problems: list[Problem], relocate: _Relocation) -> dict[Any, Any]:
    report = check_script(result)
    summary = relocate.claim_lines(report.summary())
    if not report.results:
        problems.append(Problem("claims", f"{source.name} has no claims to check (a claim is "
                                "an assignment to a name dY_dX, e.g. dS_dG = S * (1 - S))"))
    elif options.expect_wrong and report.ok:
        problems.append(Problem("claims", f"{source.name}: {summary}, but the page expects a "
                                "wrong one (expect-wrong)"))
    elif report.failed and not options.expect_wrong:
        first = report.first_wrong or report.failed[0]
        problems.append(Problem("claims", f"{source.name}: {summary}",
                                relocate.page_line(first.lineno)))
    return report.marks()


def _diagram_options(result: ScriptResult, options: EmbedOptions,
                     marks: dict[Any, Any]) -> DiagramOptions:
    path = None
    if options.path is not None:
        start = _node(result, options.path[0], "path")
        end = _node(result, options.path[1], "path") if len(options.path) > 1 else result.output
        path = (start, end)
    budget = DEFAULT_BUDGET if options.max_nodes is None else (options.max_nodes or None)
    focus = _node(result, options.focus, "focus") if options.focus else None
    if marks and (focus is not None or path is not None):
        # The page chose to leave part of the graph out: its marks go too (the diagram
        # would otherwise list every one of them as "not drawn").
        kept = set(select(result.trace.graph, DiagramOptions(
            focus=focus, path=path, max_nodes=None, legend=False)).nodes)
        marks = {target: mark for target, mark in marks.items() if _ends(target) <= kept}
    return DiagramOptions(
        show=options.show, rankdir=options.rankdir, precision=options.precision,
        max_nodes=budget, focus=focus, path=path, expand=frozenset(options.expand),
        show_constants=options.constants, legend=options.legend, title=options.title,
        marks=marks)


def _ends(target: Any) -> set[str]:
    """The nodes a mark is on: the node itself, or an edge's two ends."""
    return set(target[:2]) if isinstance(target, tuple) else {target}


def _node(result: ScriptResult, name: str, option: str) -> str:
    graph = result.trace.graph
    if name in graph:
        return name
    nodes = [(str(n), data["label"]) for n, data in graph.nodes(data=True)
             if data["kind"] != "constant"]
    close = difflib.get_close_matches(name, [n for n, _ in nodes], n=3)
    shown = [n if n == label else f"{n} ({label})" for n, label in nodes]
    hint = (f"did you mean {' or '.join(close)}? " if close else "") + "nodes: " + ", ".join(
        shown[:30]) + (f", ... ({len(shown) - 30} more)" if len(shown) > 30 else "")
    raise TracegraphError(f"{option}: there is no node {name!r} in the graph", hint=hint)


def _input(result: ScriptResult, name: str) -> str:
    inputs = list(result.trace.inputs)
    if name in inputs:
        return name
    close = difflib.get_close_matches(name, inputs, n=1)
    raise TracegraphError(f"wrt: {name!r} is not an input",
                          hint=(f"did you mean {close[0]}? " if close else "")
                          + "inputs: " + (", ".join(inputs) or "(none)"))


class _Relocation:
    """Messages about inline code name the page and its lines, not the file it ran from."""

    def __init__(self, source: Source, path: Path) -> None:
        self.source = source
        spellings = sorted({str(path), str(path.resolve()), display_path(path),
                            display_path(path.resolve())}, key=len, reverse=True)
        self.pattern = (re.compile("(" + "|".join(map(re.escape, spellings)) + r")(:(\d+))?")
                        if source.path is None else None)

    def page_line(self, line: int | None) -> int | None:
        if line is None:
            return None
        return self.source.first_line + line - 1 if self.source.path is None else None

    def claim_lines(self, summary: str) -> str:
        """A check summary's ``(line N)`` as page lines, for inline code."""
        if self.pattern is None:
            return summary
        return re.sub(r"\(line (\d+)\)",
                      lambda m: f"(line {self.page_line(int(m.group(1)))})", summary)

    # "raised NameError: ... at line 4": the headline's line (the innermost frame's), which
    # ends a line of the message (the file's own exception text may say "at line" too).
    HEADLINE = re.compile(r" at line (\d+)$", re.MULTILINE)

    def text(self, message: str) -> str:
        """``message`` naming the page and its lines: the file's paths (``file:4``) and
        the headline's ``at line 4``, so the message gives one line number, the page's."""
        if self.pattern is None:
            return message

        def replace(match: re.Match) -> str:
            if match.group(3) is None:
                return self.source.name
            return f"{self.source.name}:{self.page_line(int(match.group(3)))}"

        message = self.HEADLINE.sub(lambda m: f" at line {self.page_line(int(m.group(1)))}",
                                    message, count=1)
        return self.pattern.sub(replace, message)

    def line(self, message: str) -> int | None:
        """The page line a message about inline code is at: its headline's ``at line N``,
        else the first ``file:N`` it names."""
        if self.pattern is None:
            return None
        headline = self.HEADLINE.search(message)
        if headline is not None:
            return self.page_line(int(headline.group(1)))
        match = next((m for m in self.pattern.finditer(message) if m.group(3)), None)
        if match is None:
            match = re.search(r"\bat line (\d+)", message)
            return self.page_line(int(match.group(1))) if match else None
        return self.page_line(int(match.group(3)))
