"""The ``tracegraph`` directive: trace a file (or the directive's body) when a page is read.

Everything is decided while the page is read, where the page's file and line
are known: every failure and every problem (a wrong claim, a NaN, a warning
raised by the file, a missing ``dot``) is a Sphinx warning located there.
HTML builds get the inline SVG now; LaTeX builds lay the PDF out when they
write (:mod:`tracegraph.sphinx.nodes`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..embed import (
    OPTION_NAMES,
    Drawing,
    DrawingError,
    EmbedOptionError,
    EmbedOptions,
    Source,
    draw,
    parse_options,
)
from ..embed.cache import digest
from ..embed.drawing import graphviz_hint
from ..errors import GraphvizNotFoundError
from .config import COUNTS, WARNING_TYPE, builder_format, cache_of, warned_pages
from .nodes import fallback_nodes, table_nodes, tracegraph_diagram

logger = logging.getLogger(__name__)


class TracegraphDirective(SphinxDirective):
    """``.. tracegraph:: [PATH]`` with the options of ``tracegraph render`` (see the package).

    Example:
        >>> from tracegraph.embed import OPTION_NAMES
        >>> spec = TracegraphDirective.option_spec
        >>> sorted(set(spec) - set(OPTION_NAMES)), spec["class"]("wide dark")
        (['class', 'name'], ['wide', 'dark'])
        >>> TracegraphDirective.optional_arguments, TracegraphDirective.has_content
        (1, True)
    """

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {name: directives.unchanged for name in OPTION_NAMES} | {
        "name": directives.unchanged, "class": directives.class_option}
    _body_source: str | None = None  # the file holding the body's code, once it is read

    def run(self) -> list[nodes.Node]:
        try:
            source = self._source()
            options = parse_options({name: value for name, value in self.options.items()
                                     if name in OPTION_NAMES})
        except (DrawingError, EmbedOptionError) as err:
            return self._failure(str(err))
        image = "svg" if builder_format(self.env) == "html" else None
        try:
            drawing = draw(source, options, cache=cache_of(self.env), image=image)
        except DrawingError as err:
            if source.path is not None:
                self.env.note_dependency(str(source.path.resolve()))
            return self._failure(str(err), err.line)
        for dependency in drawing.dependencies:
            self.env.note_dependency(dependency)
        self._count(from_cache=drawing.from_cache)
        for problem in drawing.problems:
            self._warn(problem.message, problem.line, problem.kind)
        drawn = drawing.svg is not None if image == "svg" else True
        if builder_format(self.env) == "latex" and shutil.which("dot") is None:
            missing = GraphvizNotFoundError(what="the diagram's PDF")
            self._warn(f"{missing.message}; the page shows the chain-rule table and the DOT "
                       f"source instead\n  how to fix: {graphviz_hint(missing)}", None, "dot")
            drawn = False
        return self._page_nodes(drawing, options, drawn)

    # -- what to draw ---------------------------------------------------------------------------
    def _source(self) -> Source:
        if self.arguments and self.content:
            raise DrawingError("give either a file or the expression code in the body, "
                               "not both")
        if self.arguments:
            written = self.arguments[0]
            _, absolute = self.env.relfn2path(written, self.env.docname)
            return Source.file(absolute, name=written)
        if not self.content:
            raise DrawingError("give a file (.. tracegraph:: path/to/file.py) or the "
                               "expression code in the body")
        source, first_line = self._body_start()
        self._body_source = source
        return Source.inline("\n".join(self.content) + "\n",
                             name=f"{self._shown(source)} (the tracegraph block)",
                             first_line=first_line)

    def _body_start(self) -> tuple[str, int]:
        """The file holding the body (the page, or a file it includes) and the line of the
        body's first line in it, as Sphinx maps them (``.. include::`` included)."""
        source, line = self.get_source_info()
        if type(self.state).__module__.startswith("myst_parser"):
            # MyST counts the body's offset from the line after the opening fence.
            return source, line + 1 + self.content_offset
        # docutils: content_offset is the body's 0-based line in the state machine's input,
        # which holds the included files' lines too; Sphinx maps it back to a file and line.
        body_source, body_line = self.state_machine.get_source_and_line(self.content_offset + 1)
        return (body_source or source), (body_line or self.content_offset + 1)

    def _shown(self, source: str) -> str:
        """A source file as messages name it: relative to the source folder."""
        try:
            return Path(source).resolve().relative_to(Path(self.env.srcdir).resolve()).as_posix()
        except ValueError:
            return source

    # -- what the page gets -----------------------------------------------------------------------
    def _page_nodes(self, drawing: Drawing, options: EmbedOptions,
                    drawn: bool) -> list[nodes.Node]:
        table = table_nodes(drawing.table) if options.table else []
        if not drawn:
            picture = fallback_nodes(drawing, with_table=not options.table)
        else:
            serial = self.env.new_serialno("tracegraph")
            picture = [tracegraph_diagram(
                "", svg=drawing.svg, dot=drawing.dot, alt=drawing.alt, key=drawing.key,
                table=drawing.table.to_json(), has_table=options.table,
                id_prefix=f"tg-{digest(self.env.docname)[:6]}-{serial}-")]
        if options.caption:
            wrapper = nodes.figure("", *picture, classes=["tracegraph"])
            text_nodes, messages = self.state.inline_text(options.caption, self.lineno)
            wrapper += nodes.caption(options.caption, "", *text_nodes)
            wrapper.extend(messages)
        else:
            wrapper = nodes.container("", *picture, classes=["tracegraph"])
        wrapper["classes"].extend(self.options.get("class", []))
        self.set_source_info(wrapper)
        self.add_name(wrapper)
        # The table follows the figure rather than sitting in it: a LaTeX float cannot
        # break across pages, and a long table must.
        return [wrapper, *table]

    def _failure(self, message: str, line: int | None = None) -> list[nodes.Node]:
        self._warn(message, line, "error")
        self._count(failed=True)
        box = nodes.error("", nodes.paragraph(text="tracegraph could not draw this diagram:"),
                          nodes.literal_block(message, message, language="none"))
        self.set_source_info(box)
        return [box]

    def _warn(self, message: str, line: int | None, kind: str) -> None:
        """Warn at the directive (``line`` None) or at ``line`` of its body's file: the
        places Sphinx gives, so a directive in an included file warns there."""
        warned_pages(self.env).add(self.env.docname)
        if line is None:
            location = self.get_location()
        else:  # a line of inline code, counted in the file that holds the body
            location = f"{self._body_source or self.get_source_info()[0]}:{line}"
        logger.warning("%s", message, location=location, type=WARNING_TYPE, subtype=kind)

    def _count(self, *, from_cache: bool = False, failed: bool = False) -> None:
        """Count this diagram in the page's ``[diagrams, from cache, failed]``."""
        counts = getattr(self.env, COUNTS, None)
        if counts is None:
            counts = {}
            setattr(self.env, COUNTS, counts)
        entry = counts.setdefault(self.env.docname, [0, 0, 0])
        entry[0 if not failed else 2] += 1
        entry[1] += int(from_cache and not failed)
