"""The diagram's doctree node and how each builder writes it.

HTML: the inline SVG in a wrapper that scrolls sideways rather than shrink the
text past readability (:mod:`tracegraph.diagram.inline`).  LaTeX: a PDF laid
out by Graphviz (kept in the cache), included with ``\\sphinxincludegraphics``
so it fits the text block.  Every other builder (text, man, texinfo ...):
the chain-rule table instead of the picture, put in place by
:class:`FallbackTransform`.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from ..diagram import Diagram, render, svg
from ..diagram.inline import html_block, inline_svg, with_id_prefix
from ..embed import ChainRuleTable, Drawing
from ..embed.drawing import graphviz_hint
from ..errors import GraphvizNotFoundError, TracegraphError
from .config import WARNING_TYPE, builder_format, cache_of

logger = logging.getLogger(__name__)
DRAWN_FORMATS = ("html", "latex")
MAX_TEXT_COLUMN = 40


class tracegraph_diagram(nodes.General, nodes.Element):
    """A drawn diagram: ``svg`` (inline markup, or None until written), ``dot``, ``alt``,
    ``key`` (the cache key), ``id_prefix``, ``table`` (JSON) and ``has_table``.

    Example:
        >>> node = tracegraph_diagram("", svg=None, dot="digraph { x }", alt="a diagram")
        >>> node["alt"], isinstance(node, nodes.Element), node.astext()
        ('a diagram', True, '')
    """


def _visit_html(translator: Any, node: tracegraph_diagram) -> None:
    markup = node["svg"]
    if markup is None:  # the page was read by a builder of another format
        try:
            markup = inline_svg(svg(Diagram(node["dot"])), alt=node["alt"])
        except TracegraphError as err:
            logger.warning("%s", _worded(err), location=node, type=WARNING_TYPE, subtype="dot")
            raise nodes.SkipNode from None
    translator.body.append(html_block(with_id_prefix(markup, node["id_prefix"])))
    raise nodes.SkipNode


def _visit_latex(translator: Any, node: tracegraph_diagram) -> None:
    builder = translator.builder
    name = f"tracegraph-{node['key'][:24]}.pdf"
    target = Path(builder.outdir) / builder.imagedir / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        cached = cache_of(builder.env).image(node["key"], "pdf")
        try:
            if cached is None:
                render(Diagram(node["dot"]), target, format="pdf")
            else:
                if not cached.exists():
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    render(Diagram(node["dot"]), cached, format="pdf")
                shutil.copyfile(cached, target)
        except TracegraphError as err:
            logger.warning("%s", _worded(err), location=node, type=WARNING_TYPE, subtype="dot")
            raise nodes.SkipNode from None
    translator.body.append(latex_image(posixpath.join(builder.imgpath, name)))
    raise nodes.SkipNode


LATEX_MAX_HEIGHT = r"0.75\textheight"
"""The tallest a diagram is drawn in LaTeX: room is left on its page for a chapter's
heading above it, or a caption below (a picture of the full text height runs into the
footer)."""


def latex_image(path: str) -> str:
    r"""The LaTeX that includes the diagram's PDF: ``\sphinxincludegraphics``, which shrinks
    a picture (never enlarges it) to the line width and to Sphinx's maximal image height,
    here set to :data:`LATEX_MAX_HEIGHT` for this picture only.

    Example:
        >>> print(latex_image("tracegraph-0a1b.pdf").strip())
        {\csname spx@image@maxheight\endcsname=0.75\textheight\relax
        \sphinxincludegraphics{tracegraph-0a1b.pdf}}
    """
    # \csname reads the @ name whatever the catcodes are where the picture lands (a table
    # cell, a figure); the braces keep the height to this picture.
    return (f"\n{{\\csname spx@image@maxheight\\endcsname={LATEX_MAX_HEIGHT}\\relax\n"
            f"\\sphinxincludegraphics{{{path}}}}}\n")


def _worded(err: TracegraphError) -> str:
    """An error laying out a picture, as a docs author reads it (no .dot / .json advice)."""
    if isinstance(err, GraphvizNotFoundError):
        return f"{err.message}\n  how to fix: {graphviz_hint(err)}"
    return str(err)


# How the builders that draw the picture write the node (app.add_node's keywords).
NODE_VISITORS = {"html": (_visit_html, None), "latex": (_visit_latex, None)}


class FallbackTransform(SphinxPostTransform):
    """For builders that cannot show the picture: the chain-rule table in its place
    (nothing when the page already shows the table).

    Example:
        >>> from docutils.utils import new_document
        >>> table = ChainRuleTable(("node", "value"), (), "columns").to_json()
        >>> page = new_document("page")
        >>> page += [tracegraph_diagram("", alt="y = x + x", has_table=has, table=table)
        ...          for has in (False, True)]
        >>> FallbackTransform(page).run()
        >>> [type(n).__name__ for n in page.children], page.children[-1].astext()
        (['table', 'paragraph', 'paragraph'], 'y = x + x')
    """

    default_priority = 200

    def is_supported(self) -> bool:
        return builder_format(self.env) not in DRAWN_FORMATS

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(tracegraph_diagram)):
            table = [] if node["has_table"] else table_nodes(
                ChainRuleTable.from_json(node["table"]))
            node.replace_self(table or [nodes.paragraph(text=node["alt"])])


def fallback_nodes(drawing: Drawing, *, with_table: bool) -> list[nodes.Node]:
    """Without ``dot``: the chain-rule table and the diagram's DOT source.

    Example:
        >>> from tracegraph.embed import Cache, EmbedOptions, Source, draw
        >>> d = draw(Source.inline("x = 1.0\\ny = x + x\\n", name="p"), EmbedOptions(),
        ...          cache=Cache(None), image=None)
        >>> [type(n).__name__ for n in fallback_nodes(d, with_table=True)]
        ['table', 'paragraph', 'paragraph', 'literal_block']
    """
    shown = table_nodes(drawing.table) if with_table else []
    return shown + [
        nodes.paragraph(text=f"{drawing.alt} (not drawn: Graphviz's dot is missing; "
                             "the DOT source follows)"),
        # Not highlighted: Pygments' DOT lexer would warn (failing -W) on a token it cannot
        # read, and the text is there to be copied.
        nodes.literal_block(drawing.dot, drawing.dot, classes=["tracegraph-dot"],
                            language="none"),
    ]


def table_nodes(table: ChainRuleTable) -> list[nodes.Node]:
    """The chain-rule table as a docutils table, and the sentence explaining its columns.

    Example:
        >>> grid, caption = table_nodes(ChainRuleTable(("node", "value"), (), "columns"))
        >>> grid["classes"], caption.astext()
        (['tracegraph-table', 'colwidths-auto'], 'columns')
    """
    grid = nodes.table(classes=["tracegraph-table", "colwidths-auto"])
    group = nodes.tgroup(cols=len(table.header))
    grid += group
    cells = [[[cell] for cell in table.header]] + [
        [[node], [computes], [value], list(local) or ["—"], [grad]]
        for node, computes, value, local, grad in table.rows]
    for column in range(len(table.header)):
        # Only the text builder reads the widths (as characters); HTML and LaTeX size
        # the columns themselves (colwidths-auto).
        widest = max(len(line) for row in cells for line in row[column])
        group += nodes.colspec(colwidth=min(widest, MAX_TEXT_COLUMN))
    head = nodes.thead()
    head += _row(cells[0])
    group += head
    body = nodes.tbody()
    for row in cells[1:]:
        body += _row(row)
    group += body
    return [grid, nodes.paragraph(text=table.caption, classes=["tracegraph-table-caption"])]


def _row(cells: list[list[str]]) -> nodes.row:
    row = nodes.row()
    for lines in cells:
        entry = nodes.entry()
        if len(lines) == 1:
            entry += nodes.paragraph(text=lines[0])
        else:
            entry += nodes.line_block("", *(nodes.line(text=line) for line in lines))
        row += entry
    return row
