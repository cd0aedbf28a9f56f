"""Writing diagrams: files (.dot, .json, .svg, .png, .pdf), SVG text, Jupyter display.

Only this module runs Graphviz, through the ``graphviz`` package, imported
when an image is actually made.  ``.dot`` and ``.json`` need no Graphviz.
Files are written atomically: the bytes go to a temporary file in the same
folder, which then replaces the target, so a failure never leaves a
half-written or clobbered file.

Example:
    >>> import tracegraph as tg, tempfile, pathlib
    >>> t = tg.trace(lambda x: x * 2.0, x=1.0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = render(t, pathlib.Path(folder) / "double.dot")
    ...     path.name, path.read_text().startswith("digraph")
    ('double.dot', True)
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

from ..errors import GraphvizNotFoundError, TracegraphError, display_path
from ..graph import to_json
from .dot import Diagram, build_diagram, graph_of
from .inline import html_block, inline_svg, unique_id_prefix
from .options import FORMATS, DiagramOptions, resolve_options

GRAPHVIZ_PROGRAM = "dot"
# Wider SVGs than this (in points) are scaled to the notebook's width instead of cropped.
NOTEBOOK_WIDTH_PT = 720


def render(source: Any, path: str | os.PathLike, *, format: str | None = None,
           options: DiagramOptions | None = None, **overrides: Any) -> Path:
    """Write the diagram of ``source`` (a Trace or its graph) to ``path``.

    ``format`` defaults to the file's suffix: ``dot``, ``json`` (the graph
    as node-link JSON, restricted to ``focus``/``path`` when given), ``svg``,
    ``png`` or ``pdf``.  Images need Graphviz's ``dot`` program.  The folder
    must exist.  Returns the path written.

    ``source`` may also be a :class:`Diagram` already built (its notes read
    first, say), which is then written without building it again.

    Example:
        >>> import tracegraph as tg, tempfile, pathlib, json
        >>> t = tg.trace(lambda x: x * x, x=3.0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = render(t, pathlib.Path(folder) / "square.json")
        ...     json.loads(path.read_text())["graph"]["output"]
        'output'
    """
    path = Path(path)
    fmt = _format_of(path, format)
    _check_folder(path)
    if isinstance(source, Diagram):
        dot_text = _built_dot(source, fmt, options, overrides)
    else:
        options = resolve_options(options, overrides)
        if fmt == "json":
            write_atomically(path, to_json(_filtered_graph(graph_of(source), options))
                              .encode("utf-8"))
            return path
        dot_text = build_diagram(source, options).dot
    data = dot_text.encode("utf-8") if fmt == "dot" else _run_graphviz(dot_text, fmt)
    write_atomically(path, data)
    return path


def _built_dot(diagram: Diagram, fmt: str, options: Any, overrides: dict) -> str:
    if options is not None or overrides:
        raise TracegraphError("a built Diagram cannot take diagram options",
                              hint="pass the options to build_diagram(), or give render() "
                                   "the trace")
    if fmt == "json":
        raise TracegraphError("a built Diagram has no graph to write as JSON",
                              hint="pass the trace (or its graph) to render() for .json")
    return diagram.dot


def svg(source: Any, options: DiagramOptions | None = None, **overrides: Any) -> str:
    """The diagram as SVG text (needs Graphviz's ``dot`` program).

    ``source`` is a Trace, its graph, or a :class:`Diagram` already built.

    Example:
        >>> import shutil, tracegraph as tg
        >>> if shutil.which("dot"):
        ...     text = svg(tg.trace(lambda x: x * 2.0, x=1.0))
        ...     assert text.lstrip().startswith("<?xml") and "</svg>" in text
    """
    dot_text = (_built_dot(source, "svg", options, overrides) if isinstance(source, Diagram)
                else build_diagram(source, options, **overrides).dot)
    return _run_graphviz(dot_text, "svg").decode("utf-8")


def html(source: Any, options: DiagramOptions | None = None, *, alt: str = "",
         id_prefix: str | None = None, **overrides: Any) -> str:
    """The diagram as an HTML block holding inline SVG that follows the page's light or
    dark theme (see :mod:`tracegraph.diagram.inline`; needs Graphviz's ``dot``).

    ``id_prefix`` starts every id (default: one unique in this process).

    Example:
        >>> import shutil, tracegraph as tg
        >>> if shutil.which("dot"):
        ...     block = html(tg.trace(lambda x: x * 2.0, x=1.0), id_prefix="cell1-")
        ...     assert block.startswith('<div class="tracegraph-diagram"')
        ...     assert 'id="cell1-node1"' in block
    """
    image = svg(source, options, **overrides)
    prefix = id_prefix if id_prefix is not None else unique_id_prefix(image)
    return html_block(inline_svg(image, alt=alt, id_prefix=prefix))


def mimebundle(source: Any, options: DiagramOptions | None = None,
               **overrides: Any) -> dict[str, str]:
    """What Jupyter shows for a trace: its diagram as SVG, scaled to the cell
    width when wider (never cropped), the same as inline HTML that follows the
    notebook's light or dark theme (:mod:`tracegraph.diagram.inline`), or
    without Graphviz a text saying how to install it.

    Example:
        >>> import shutil, tracegraph as tg
        >>> bundle = mimebundle(tg.trace(lambda x: x * 2.0, x=1.0))
        >>> sorted(bundle) == (["image/svg+xml", "text/html", "text/plain"]
        ...                    if shutil.which("dot") else ["text/plain"])
        True
    """
    text = repr(source)
    try:
        image = svg(source, options, **overrides)
    except GraphvizNotFoundError as err:
        return {"text/plain": f"{text}\n(no diagram: {err.message})\n{err.hint}"}
    block = html_block(inline_svg(image, alt=text, id_prefix=unique_id_prefix(image)))
    standalone = fit_to_width(prefixed_ids(image, unique_id_prefix(image)))
    return {"image/svg+xml": standalone, "text/html": block, "text/plain": text}


_SVG_ID = re.compile(r'(\bid="|href="#|url\(#)')


def prefixed_ids(svg_text: str, prefix: str) -> str:
    """Graphviz's SVG with every element id (and reference to one) starting with
    ``prefix``: two diagrams inlined in one notebook page then share no id.

    Example:
        >>> prefixed_ids('<g id="node1"><a href="#node1"/></g>', "tg7-")
        '<g id="tg7-node1"><a href="#tg7-node1"/></g>'
    """
    return _SVG_ID.sub(lambda m: m.group(1) + prefix, svg_text)


def fit_to_width(svg_text: str, max_width_pt: float = NOTEBOOK_WIDTH_PT) -> str:
    """Make an SVG wider than ``max_width_pt`` scale to its container's width.

    Graphviz writes a fixed size in points; a notebook cell narrower than that
    would crop the picture.  The viewBox keeps the proportions.

    Example:
        >>> fit_to_width('<svg width="2000pt" height="100pt" viewBox="0 0 2000 100">')
        '<svg width="100%" viewBox="0 0 2000 100">'
        >>> fit_to_width('<svg width="200pt" height="100pt" viewBox="0 0 200 100">')
        '<svg width="200pt" height="100pt" viewBox="0 0 200 100">'
    """
    match = _SVG_SIZE.search(svg_text)
    if match is None or float(match.group("width")) <= max_width_pt:
        return svg_text
    return svg_text[: match.start()] + '<svg width="100%"' + svg_text[match.end():]


_SVG_SIZE = re.compile(r'<svg width="(?P<width>[\d.]+)pt"\s+height="[\d.]+pt"')


# --------------------------------------------------------------------------- helpers


def _format_of(path: Path, format: str | None) -> str:
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        given = f"format={format!r}" if format else f"the suffix of {str(path)!r}"
        raise TracegraphError(
            f"cannot tell what to write from {given}",
            hint=f"use a file name ending in one of {', '.join('.' + f for f in FORMATS)}, "
                 "or pass format=")
    return fmt


def _check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise TracegraphError(
            f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist",
            hint="create the folder first (tracegraph does not create folders)")
    if path.is_dir():
        raise TracegraphError(f"cannot write {str(path)!r}: it is a folder",
                              hint="give a file name such as diagram.svg")


def _filtered_graph(graph: Any, options: DiagramOptions) -> Any:
    """The graph restricted to ``focus`` / ``path`` (the whole graph otherwise)."""
    if options.focus is None and options.path is None:
        return graph
    from .view import select

    view = select(graph, DiagramOptions(focus=options.focus, path=options.path, max_nodes=None,
                                        legend=False))
    return graph.subgraph(view.nodes)


def _run_graphviz(dot_text: str, fmt: str) -> bytes:
    if shutil.which(GRAPHVIZ_PROGRAM) is None:
        raise GraphvizNotFoundError(GRAPHVIZ_PROGRAM, what=f"{fmt.upper()} output")
    import graphviz

    try:
        return graphviz.pipe("dot", fmt, dot_text.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound as err:
        raise GraphvizNotFoundError(GRAPHVIZ_PROGRAM, what=f"{fmt.upper()} output") from err
    except graphviz.CalledProcessError as err:
        stderr = err.stderr.decode("utf-8", "replace") if isinstance(err.stderr, bytes) \
            else str(err.stderr or "")
        raise TracegraphError(
            f"Graphviz failed to lay out the diagram (exit code {err.returncode}): "
            f"{stderr.strip()[:500]}",
            hint="this is a tracegraph bug if the DOT came from tracegraph; please report it "
                 "with the .dot file (write it with a .dot suffix)") from err


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a failed write leaves the old
    file whole; as an ordinary write would, through a symlink to its target, keeping the
    file's permissions, and never over a file the user may not write."""
    _check_folder(Path(path))  # else the error would name the temporary file
    path = Path(os.path.realpath(path))
    mode = None
    if path.exists():
        if not os.access(path, os.W_OK):
            raise TracegraphError(f"{display_path(path)} is read-only, so it is not replaced",
                                  hint="make it writable (chmod u+w) or write elsewhere (-o)")
        mode = stat.S_IMODE(path.stat().st_mode)
    folder = path.parent
    while True:
        temporary = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            # 0o666 lets the umask decide the permissions, as for any new file.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
