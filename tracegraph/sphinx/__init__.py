"""Sphinx extension: chain-rule diagrams in a page, drawn when the docs are built.

In ``conf.py``::

    extensions = ["tracegraph.sphinx"]

then in a page, reStructuredText or MyST Markdown (see docs/embedding.md)::

    .. tracegraph:: ../examples/neuron.py
       :rankdir: TB
       :table:

    ```{tracegraph} ../examples/neuron.py
    :check:
    ```

Without a path the directive's body is the expression code.  The path
resolves as ``literalinclude``'s does (relative to the page, or to the source
folder when it starts with ``/``).  The options mirror ``tracegraph render``
(:mod:`tracegraph.embed.options`).

HTML pages get inline SVG that scales to the column and follows the theme's
light or dark colours; LaTeX gets a PDF image; the text builder and any
other the chain-rule table.  Diagrams come from a content-hash cache
(``tracegraph_cache_dir``, default ``<doctrees>/tracegraph``); each build
logs ``tracegraph: N diagrams (M from cache)`` (and how many failed).  Every failure is a warning
at the page's file and line, so ``sphinx-build -W`` fails.  Parallel builds
(``-j``) are supported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from ..embed import fingerprint
from ..numbers import counted
from .config import CACHE_SETTING, COUNTS, FORMAT, warned_pages
from .directive import TracegraphDirective
from .latex import declare_characters
from .nodes import NODE_VISITORS, FallbackTransform, tracegraph_diagram

logger = logging.getLogger(__name__)
VERSION = "1"


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, its node and the build events (Sphinx calls this).

    Example (a text build, which needs no Graphviz):
        >>> import pathlib, tempfile
        >>> from sphinx.cmd.build import build_main
        >>> src = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (src / "conf.py").write_text('extensions = ["tracegraph.sphinx"]\\n')
        >>> _ = (src / "index.rst").write_text(".. tracegraph::\\n\\n   x = 3.0\\n   y = x * x\\n")
        >>> build_main(["-q", "-W", "-b", "text", str(src), str(src / "_build")])
        0
        >>> print((src / "_build" / "index.txt").read_text().splitlines()[1])
        | node | computes | value | local derivatives | ∂y/∂node |
    """
    app.add_config_value(CACHE_SETTING, "", "", str,
                         description="Where diagrams are cached (default: <doctrees>/tracegraph); "
                                     "'off' disables the cache")
    app.add_node(tracegraph_diagram, **NODE_VISITORS)
    app.add_directive("tracegraph", TracegraphDirective)
    app.add_post_transform(FallbackTransform)
    app.connect("config-inited", declare_characters)
    app.connect("env-get-outdated", _still_warning)
    app.connect("env-before-read-docs", _before_reading)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _report)
    # A new tracegraph or Graphviz may draw differently: Sphinx then rereads every page.
    env_version = int(fingerprint()[:12], 16)
    return {"version": VERSION, "env_version": env_version, "parallel_read_safe": True,
            "parallel_write_safe": True}


def _still_warning(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                   removed: set[str]) -> list[str]:
    # A page that warned is read again by every build until it is fixed, so an
    # incremental `-W` build fails as long as a clean one would (it comes from the cache).
    return sorted(warned_pages(env) - removed)


def _before_reading(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    # Counts are per build; the builder's format decides what the directive lays out.
    setattr(env, COUNTS, {})
    setattr(env, FORMAT, app.builder.format)


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, COUNTS, {}).pop(docname, None)
    warned_pages(env).discard(docname)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str],
           other: BuildEnvironment) -> None:
    counts = getattr(env, COUNTS, None)
    if counts is None:
        counts = {}
        setattr(env, COUNTS, counts)
    theirs = getattr(other, COUNTS, {})
    counts.update({name: theirs[name] for name in docnames if name in theirs})
    warned_pages(env).update(warned_pages(other) & set(docnames))


def _report(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None:
        return
    logger.info("%s", count_line(getattr(app.env, COUNTS, {}).values()))


def count_line(counts: Iterable[list[int]]) -> str:
    """The build's INFO line, from each page's ``[diagrams, from cache, failed]``.

    Example:
        >>> print(count_line([[1, 0, 0]]))
        tracegraph: 1 diagram (0 from cache)
        >>> print(count_line([[2, 1, 0], [1, 1, 1]]))
        tracegraph: 3 diagrams (2 from cache, 1 failed)
        >>> print(count_line([[0, 0, 2]]))
        tracegraph: 0 diagrams (2 failed)
        >>> print(count_line([]))
        tracegraph: 0 diagrams (no page that draws one was read again)
    """
    drawn = cached = failed = 0
    for entry in counts:
        drawn, cached = drawn + entry[0], cached + entry[1]
        failed += entry[2] if len(entry) > 2 else 0
    if not drawn and not failed:  # an incremental build that re-read no page with a diagram
        return "tracegraph: 0 diagrams (no page that draws one was read again)"
    parts = ([f"{cached} from cache"] if drawn else []) + ([f"{failed} failed"] if failed else [])
    return f"tracegraph: {counted(drawn, 'diagram')} ({', '.join(parts)})"
