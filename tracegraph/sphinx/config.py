"""What the extension's parts share: the cache setting and the environment's own data."""

from __future__ import annotations

from pathlib import Path

from sphinx.environment import BuildEnvironment

from ..embed import Cache

COUNTS = "tracegraph_counts"  # env attribute: {docname: [diagrams, from cache, failed]}
FORMAT = "tracegraph_format"  # env attribute: the format of the builder reading the pages
WARNED = "tracegraph_warned"  # env attribute: the pages that warned, reread until they do not
CACHE_SETTING = "tracegraph_cache_dir"
CACHE_OFF = "off"
WARNING_TYPE = "tracegraph"


def cache_of(env: BuildEnvironment) -> Cache:
    """The cache ``tracegraph_cache_dir`` asks for: ``<doctrees>/tracegraph`` by default, a
    folder relative to the source folder, or none (``"off"``).

    Example:
        >>> from types import SimpleNamespace as Env
        >>> env = Env(config=Env(tracegraph_cache_dir=""), doctreedir="_build/doctrees",
        ...           srcdir="docs")
        >>> cache_of(env).folder.as_posix()
        '_build/doctrees/tracegraph'
    """
    setting = (getattr(env.config, CACHE_SETTING) or "").strip()
    if setting == CACHE_OFF:
        return Cache(None)
    if not setting:
        return Cache(Path(env.doctreedir) / "tracegraph")
    return Cache(Path(env.srcdir) / setting)


def warned_pages(env: BuildEnvironment) -> set[str]:
    """The pages whose diagrams warned when last read (kept in the environment).

    Example:
        >>> from types import SimpleNamespace
        >>> env = SimpleNamespace()
        >>> warned_pages(env).add("index")
        >>> warned_pages(env)
        {'index'}
    """
    pages = getattr(env, WARNED, None)
    if pages is None:
        pages = set()
        setattr(env, WARNED, pages)
    return pages


def builder_format(env: BuildEnvironment) -> str:
    """The format of the builder reading the pages (``html``, ``latex``, ``text`` ...), as
    recorded when the build started reading.

    Example:
        >>> from types import SimpleNamespace
        >>> builder_format(SimpleNamespace(tracegraph_format="latex"))
        'latex'
    """
    return getattr(env, FORMAT, "html")
