"""A Python-Markdown / MkDocs fence for chain-rule diagrams (pymdownx.superfences).

In ``mkdocs.yml``::

    markdown_extensions:
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

    ```tracegraph path="examples/neuron.py" rankdir="TB" table
    ```

The validator lets attributes be written bare, as above; without it, write
them in braces with ``attr_list`` enabled: ```` ```{.tracegraph path="..."} ````.
The result is the inline, themable SVG of the Sphinx extension
(:mod:`tracegraph.diagram.inline`), cached in ``$TRACEGRAPH_CACHE_DIR`` (default
``~/.cache/tracegraph``).  Problems and failures are logged as warnings on the
``mkdocs.plugins.tracegraph`` logger, so ``mkdocs build --strict`` fails on
them; a failed fence shows the message in the page.

Example:
    >>> import markdown
    >>> fence = {"name": "tracegraph", "class": "tracegraph", "format": fence_format,
    ...          "validator": fence_validator}
    >>> text = "```tracegraph show=\\"grads\\" table\\nx = 3.0\\ny = x * x\\n```\\n"
    >>> page = markdown.markdown(text, extensions=["pymdownx.superfences"],
    ...     extension_configs={"pymdownx.superfences": {"custom_fences": [fence]}})
    >>> "∂y/∂node" in page and '<table class="tracegraph-table">' in page
    True
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any

from .diagram.inline import html_block, with_id_prefix
from .embed import Cache, DrawingError, EmbedOptionError, Source, draw, parse_options

logger = logging.getLogger("mkdocs.plugins.tracegraph")
CACHE_VARIABLE = "TRACEGRAPH_CACHE_DIR"
FILE_ATTRIBUTE = "path"
PATH_ATTRIBUTE = "between"  # the fence's name for the directive's :path: FROM[,TO]
_SERIAL = "tracegraph_serial"  # on the Markdown instance: diagrams in this page so far


def fence_validator(language: str, inputs: dict[str, str], options: dict[str, Any],
                    attrs: dict[str, Any], md: Any) -> bool:
    """Accept every attribute as an option; :func:`fence_format` checks them (and
    reports a bad one in the page instead of silently rendering a code block).

    Example:
        >>> options = {}
        >>> fence_validator("tracegraph", {"path": "f.py"}, options, {}, None), options
        (True, {'path': 'f.py'})
    """
    options.update(inputs)
    return True


def fence_format(source: str, language: str, class_name: str, options: dict[str, Any],
                 md: Any, **kwargs: Any) -> str:
    """The fence as HTML: the diagram (and, with ``table``, the chain-rule table).

    Example:
        >>> page = fence_format("x = 1.0\\n", "tracegraph", "tracegraph", {"show": "all-of-it"},
        ...                     None)
        >>> print(page.replace("<pre>", "\\n<pre>"))
        <div class="tracegraph tracegraph-error"><p>tracegraph could not draw this diagram:</p>
        <pre>show: 'all-of-it' is not a display mode
          how to fix: use one of all, values, grads, local, flow, tangent</pre></div>
    """
    given = {**options, **kwargs.get("attrs", {})}
    try:
        drawing_source = _source(source, given)
        given = {(key if key != PATH_ATTRIBUTE else "path"): value
                 for key, value in given.items() if key != FILE_ATTRIBUTE}
        parsed = parse_options(given)
        drawing = draw(drawing_source, parsed, cache=_cache(), image="svg")
    except (DrawingError, EmbedOptionError) as err:
        logger.warning("tracegraph: %s", err)
        return (f'<div class="{class_name} tracegraph-error"><p>tracegraph could not draw this '
                f"diagram:</p><pre>{html.escape(str(err), quote=False)}</pre></div>")
    for problem in drawing.problems:
        logger.warning("tracegraph: %s", problem.message)
    parts = []
    if drawing.svg is not None:
        parts.append(html_block(with_id_prefix(drawing.svg, _id_prefix(md))))
    else:  # no dot: the DOT source in place of the picture
        parts.append(f'<pre class="tracegraph-dot">{html.escape(drawing.dot, quote=False)}</pre>')
    if parsed.table or drawing.svg is None:
        parts.append(drawing.table.html())
    if parsed.caption:
        parts.append(f"<figcaption>{html.escape(parsed.caption, quote=False)}</figcaption>")
    return f'<figure class="{class_name}">' + "".join(parts) + "</figure>"


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
