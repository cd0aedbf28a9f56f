"""What the extension's parts share: the cache setting and the environment's own data."""

from __future__ import annotations

from pathlib import Path

from sphinx.environment import BuildEnvironment

from ..embed import Cache

COUNTS = "tracegraph_counts"  # env attribute: {docname: [diagrams, from cache]} of this build
FORMAT = "tracegraph_format"  # env attribute: the format of the builder reading the pages
CACHE_SETTING = "tracegraph_cache_dir"
CACHE_OFF = "off"
WARNING_TYPE = "tracegraph"


def cache_of(env: BuildEnvironment) -> Cache:
    """The cache ``tracegraph_cache_dir`` asks for: ``<doctrees>/tracegraph`` by default, a
    folder relative to the source folder, or none (``"off"``)."""
    setting = (getattr(env.config, CACHE_SETTING) or "").strip()
    if setting == CACHE_OFF:
        return Cache(None)
    if not setting:
        return Cache(Path(env.doctreedir) / "tracegraph")
    return Cache(Path(env.srcdir) / setting)


def builder_format(env: BuildEnvironment) -> str:
    """The format of the builder reading the pages (``html``, ``latex``, ``text`` ...)."""
    return getattr(env, FORMAT, "html")
