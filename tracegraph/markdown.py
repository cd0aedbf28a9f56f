"""A Python-Markdown / MkDocs fence for chain-rule diagrams (pymdownx.superfences).

In ``mkdocs.yml``::

    markdown_extensions:
      - tracegraph.markdown
      - pymdownx.superfences:
          custom_fences:
            - name: tracegraph
              class: tracegraph
              format: !!python/name:tracegraph.markdown.fence_format
              validator: !!python/name:tracegraph.markdown.fence_validator

then in a page, the fence body is the expression code, or ``path="..."``
names a file (relative to the folder the build runs in); the other options of
the Sphinx directive are fence attributes, with ``between="FROM[,TO]"`` for
``tracegraph render --path``::

    ```tracegraph path="examples/neuron.py" rankdir="TB" max-nodes="40" expect-wrong
    ```

An option is ``NAME`` or ``NAME="VALUE"``, separated by spaces.  superfences
itself reads only names made of letters, digits and ``_``: it drops a header
with ``max-nodes`` or ``expect-wrong`` (the fence becomes a code block that
swallows the next fence, without a word).  The ``tracegraph.markdown``
extension (:class:`TracegraphExtension`) reads the header first, so the
directive's hyphenated names work, and a header it cannot read either is an
error in the page and a warning; without it, spell them ``max_nodes``,
``expect_wrong``, ``no_legend``, ``no_constants`` (the first fence superfences
reads warns once that the extension is missing).  Braces work too:
```` ```{.tracegraph expect-wrong} ````.
The result is the inline, themable SVG of the Sphinx extension
(:mod:`tracegraph.diagram.inline`), cached in ``$TRACEGRAPH_CACHE_DIR`` (default
``~/.cache/tracegraph``).  Problems and failures are logged as warnings on the
``mkdocs.plugins.tracegraph`` logger, so ``mkdocs build --strict`` fails on
them; a failed fence shows the message in the page.

Example:
    >>> import markdown
    >>> fence = {"name": "tracegraph", "class": "tracegraph", "format": fence_format,
    ...          "validator": fence_validator}
    >>> text = "```tracegraph show=\\"grads\\" no-legend table\\nx = 3.0\\ny = x * x\\n```\\n"
    >>> page = markdown.markdown(text, extensions=["tracegraph.markdown", "pymdownx.superfences"],
    ...     extension_configs={"pymdownx.superfences": {"custom_fences": [fence]}})
    >>> "∂y/∂node" in page and '<table class="tracegraph-table">' in page
    True
"""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path
from typing import Any

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from pymdownx.superfences import RE_NESTED_FENCE_START

from .diagram.inline import html_block, with_id_prefix
from .embed import Cache, DrawingError, EmbedOptionError, Source, draw, parse_options

logger = logging.getLogger("mkdocs.plugins.tracegraph")
CACHE_VARIABLE = "TRACEGRAPH_CACHE_DIR"
FILE_ATTRIBUTE = "path"
PATH_ATTRIBUTE = "between"  # the fence's name for the directive's :path: FROM[,TO]
UNREADABLE_ATTRIBUTE = "tracegraph_unreadable"  # a header the extension could not read
HEADER_READER = "tracegraph_fence_headers"  # the extension's preprocessor, by name
_SERIAL = "tracegraph_serial"  # on the Markdown instance: diagrams in this page so far
_UNREADABLE = "tracegraph_unreadable_headers"  # on the Markdown instance: their text
_FENCE_OPEN = re.compile(r"(?P<prefix>[> \t]*)(?P<fence>`{3,}|~{3,})(?P<rest>.*)$")
_OPTION = re.compile(r"""[ \t]*(?P<key>[A-Za-z][\w-]*)(?:=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'"""
                     r"""|(?P<bare>[^\s"'=]+)))?(?=[ \t]|$)""")
_warned_without_extension = False  # once per process: MkDocs makes a Markdown per page


class TracegraphExtension(Extension):
    """``tracegraph.markdown`` in ``markdown_extensions``: reads a tracegraph fence's
    header before superfences does, so that ``max-nodes="40"``, ``expect-wrong``,
    ``no-legend`` and ``no-constants`` work and a header neither can read is an error in
    the page (superfences drops such a header: the fence became a code block).

    Example:
        >>> import markdown
        >>> md = markdown.Markdown(extensions=[TracegraphExtension()])
        >>> md.preprocessors[HEADER_READER].run(["```tracegraph max-nodes=\\"40\\" expect-wrong"])
        ['```tracegraph max_nodes="40" expect_wrong']
    """

    def __init__(self, **kwargs: Any) -> None:
        self.config = {"name": ["tracegraph", "the fence's name, as in custom_fences"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Any) -> None:  # noqa: N802 (Python-Markdown's name)
        # After pymdownx.snippets (32) has inserted its files, before superfences (31.05, 25).
        md.preprocessors.register(_HeaderReader(md, self.getConfig("name")), HEADER_READER, 31.5)


def makeExtension(**kwargs: Any) -> TracegraphExtension:  # noqa: N802 (Python-Markdown's name)
    """What ``markdown_extensions: [tracegraph.markdown]`` loads.

    Example:
        >>> import markdown
        >>> md = markdown.Markdown(extensions=["tracegraph.markdown"])
        >>> HEADER_READER in md.preprocessors
        True
    """
    return TracegraphExtension(**kwargs)


class _HeaderReader(Preprocessor):
    """Rewrites the header of each tracegraph fence outside other fences into one
    superfences reads: option names with ``_`` for ``-``, values quoted; a header that
    cannot be read becomes ``tracegraph_unreadable="N"``, which :func:`fence_format` reports."""

    def __init__(self, md: Any, name: str) -> None:
        super().__init__(md)
        self.name = name

    def run(self, lines: list[str]) -> list[str]:
        unreadable: list[str] = []
        setattr(self.md, _UNREADABLE, unreadable)
        result, closing = [], None
        for line in lines:
            opening = _FENCE_OPEN.match(line.rstrip("\r"))
            if closing is not None:  # inside a fence: its lines are its content
                if opening and opening["fence"] == closing and not opening["rest"].strip():
                    closing = None
                result.append(line)
                continue
            if opening is None:
                result.append(line)
                continue
            line = self._header(opening, unreadable) or line
            read = RE_NESTED_FENCE_START.match(line.rstrip("\r"), len(opening["prefix"]))
            if read is not None and not read.group("unrecognized"):
                closing = opening["fence"]  # superfences opens it (it drops the others)
            result.append(line)
        return result

    def _header(self, opening: re.Match, unreadable: list[str]) -> str | None:
        """The tracegraph fence's header as superfences reads it, or None to leave it."""
        rest = opening["rest"]
        language = re.match(r"[ \t]*\.?([\w#.+-]+)(?=[ \t]|$)", rest)
        if language is None or language.group(1) != self.name:
            return None
        start = f'{opening["prefix"]}{opening["fence"]}{language.group(0)}'
        given = rest[language.end():]
        if given.strip().startswith("{") or not given.strip():
            return None  # attributes in braces: superfences reads them itself
        options, position = [], 0
        while position < len(given.rstrip()):
            option = _OPTION.match(given, position)
            if option is None or option.end() == position:
                break
            options.append(_spelled(option))
            position = option.end()
        header = f"{start} {' '.join(options)}"
        read = RE_NESTED_FENCE_START.match(header, len(opening["prefix"]))
        if position < len(given.rstrip()) or read is None or read.group("unrecognized"):
            unreadable.append(given.strip())
            header = f'{start} {UNREADABLE_ATTRIBUTE}="{len(unreadable) - 1}"'
        return header


def _spelled(option: re.Match) -> str:
    """One option as superfences reads it: ``max-nodes=40`` → ``max_nodes="40"``."""
    key = option["key"].replace("-", "_")
    if option["sq"] is not None:
        return f"{key}='{option['sq']}'"
    value = option["dq"] if option["dq"] is not None else option["bare"]
    return key if value is None else f'{key}="{value}"'


def fence_validator(language: str, inputs: dict[str, str], options: dict[str, Any],
                    attrs: dict[str, Any], md: Any) -> bool:
    """Accept every attribute as an option; :func:`fence_format` checks them (and
    reports a bad one in the page instead of silently rendering a code block).

    Example:
        >>> options = {}
        >>> fence_validator("tracegraph", {"path": "f.py"}, options, {}, None), options
        (True, {'path': 'f.py'})
    """
    global _warned_without_extension
    if md is not None and HEADER_READER not in md.preprocessors and (
            not _warned_without_extension):
        _warned_without_extension = True
        logger.warning("tracegraph: add `tracegraph.markdown` to markdown_extensions: without "
                       "it superfences drops a fence header with a hyphen (max-nodes=\"40\", "
                       "expect-wrong) and the fence becomes a code block, without a warning; "
                       "until then spell them max_nodes, expect_wrong, no_legend, no_constants")
    options.update(inputs)
    return True


def fence_format(source: str, language: str, class_name: str, options: dict[str, Any],
                 md: Any, **kwargs: Any) -> str:
    """The fence as HTML: the diagram (and, with ``table``, the chain-rule table).

    Example:
        >>> page = fence_format("x = 1.0\\n", "tracegraph", "tracegraph", {"show": "all-of-it"},
        ...                     None)
        >>> print(page.replace("<pre ", "\\n<pre "))
        <div class="tracegraph tracegraph-error"><p>tracegraph could not draw this diagram:</p>
        <pre style="white-space:pre-wrap">show: 'all-of-it' is not a display mode
          how to fix: use one of all, values, grads, local, flow, tangent</pre></div>
    """
    given = {**options, **kwargs.get("attrs", {})}
    try:
        if UNREADABLE_ATTRIBUTE in given:
            raise EmbedOptionError(
                f"cannot read the options of this fence: "
                f"{_unreadable(md, given[UNREADABLE_ATTRIBUTE])}",
                hint='write each option as NAME or NAME="VALUE", separated by spaces: '
                     '```tracegraph path="f.py" max-nodes="40" expect-wrong')
        drawing_source = _source(source, given)
        given = {(key if key != PATH_ATTRIBUTE else "path"): value
                 for key, value in given.items() if key != FILE_ATTRIBUTE}
        parsed = parse_options(given)
        drawing = draw(drawing_source, parsed, cache=_cache(), image="svg")
    except (DrawingError, EmbedOptionError) as err:
        logger.warning("tracegraph: %s", err)
        # Inline styles, as on the diagram's wrapper: the page's theme may not style a bare
        # <pre>, and a long hint or DOT line must not widen the whole page.
        return (f'<div class="{class_name} tracegraph-error"><p>tracegraph could not draw this '
                f'diagram:</p><pre style="white-space:pre-wrap">'
                f"{html.escape(str(err), quote=False)}</pre></div>")
    for problem in drawing.problems:
        logger.warning("tracegraph: %s", problem.message)
    parts = []
    if drawing.svg is not None:
        parts.append(html_block(with_id_prefix(drawing.svg, _id_prefix(md))))
    else:  # no dot: the DOT source in place of the picture
        parts.append(f'<pre class="tracegraph-dot" style="overflow-x:auto">'
                     f"{html.escape(drawing.dot, quote=False)}</pre>")
    if parsed.table or drawing.svg is None:
        parts.append(drawing.table.html())
    if parsed.caption:
        parts.append(f"<figcaption>{html.escape(parsed.caption, quote=False)}</figcaption>")
    return f'<figure class="{class_name}">' + "".join(parts) + "</figure>"


def _unreadable(md: Any, index: str) -> str:
    headers = getattr(md, _UNREADABLE, [])
    try:
        return headers[int(index)]
    except (ValueError, IndexError):
        return f"{UNREADABLE_ATTRIBUTE}={index!r}"


def _source(code: str, given: dict[str, Any]) -> Source:
    path = given.get(FILE_ATTRIBUTE)
    if path and code.strip():
        raise DrawingError(f'give either path="{path}" or the expression code in the fence, '
                           "not both")
    if path:
        return Source.file(Path(path), name=path)
    if not code.strip():
        raise DrawingError('give the expression code in the fence, or path="file.py"')
    return Source.inline(code if code.endswith("\n") else code + "\n", name="the tracegraph fence")


def _cache() -> Cache:
    folder = os.environ.get(CACHE_VARIABLE)
    if folder == "off":
        return Cache(None)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(base) / "tracegraph"
    return Cache(folder)


def _id_prefix(md: Any) -> str:
    serial = getattr(md, _SERIAL, 0) + 1
    if md is not None:
        setattr(md, _SERIAL, serial)
    return f"tg-{serial}-"
