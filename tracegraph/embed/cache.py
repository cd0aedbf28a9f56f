"""A content-addressed cache of embedded diagrams, and the files a trace reads.

An entry is keyed by a hash of everything its picture depends on: the
expression file's bytes (or the inline code), the options, and
:func:`fingerprint` - tracegraph's own source and the Graphviz version - so
an unchanged rebuild traces and lays out nothing, and changing tracegraph
or Graphviz never serves a stale picture.  Files the expression file reads
while it is traced (a CSV, a helper module: :func:`recording_reads`) are
stored with their hashes and checked on every lookup.

Entries are JSON files (images beside them) written atomically, so builds
running in parallel processes can share one folder.

Example:
    >>> import tempfile
    >>> cache = Cache(tempfile.mkdtemp())
    >>> cache.get("abc") is None
    True
    >>> cache.put("abc", {"dot": "digraph {}"}, dependencies=[])
    >>> cache.get("abc")["dot"]
    'digraph {}'
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..script.running import is_installed

FORMAT_VERSION = 1  # bump when the layout of an entry changes
_PACKAGE = Path(__file__).resolve().parent.parent


def digest(data: bytes | str) -> str:
    """The SHA-256 of ``data`` in hex.

    Example:
        >>> digest("")[:12]
        'e3b0c44298fc'
    """
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """What every picture also depends on: tracegraph's source files and ``dot -V``.

    Computed once per process (a few milliseconds).

    Example:
        >>> len(fingerprint())
        64
    """
    parts = [str(FORMAT_VERSION)]
    for path in sorted(_PACKAGE.rglob("*.py")):
        parts.append(f"{path.relative_to(_PACKAGE).as_posix()}:{digest(path.read_bytes())}")
    parts.append(_graphviz_version())
    return digest("\n".join(parts))


def _graphviz_version() -> str:
    dot = shutil.which("dot")
    if dot is None:
        return "no dot"
    try:
        done = subprocess.run([dot, "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "dot (version unknown)"
    return (done.stderr or done.stdout).strip()


class Cache:
    """Entries (JSON) and images in ``folder``; ``Cache(None)`` caches nothing.

    Example:
        >>> Cache(None).get("abc") is None
        True
    """

    def __init__(self, folder: str | os.PathLike | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry for ``key`` if it exists and the files it read are unchanged."""
        if self.folder is None:
            return None
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if entry.get("format") != FORMAT_VERSION:
            return None
        for path, expected in entry.get("dependencies", {}).items():
            if _file_digest(path) != expected:
                return None
        return entry

    def put(self, key: str, entry: dict[str, Any], *, dependencies: Iterable[str]) -> None:
        """Store ``entry`` (JSON-able) with the current hashes of ``dependencies``."""
        if self.folder is None:
            return
        stored = dict(entry, format=FORMAT_VERSION,
                      dependencies={path: _file_digest(path) for path in sorted(dependencies)})
        self.write(f"{key}.json", json.dumps(stored, sort_keys=True).encode("utf-8"))

    def image(self, key: str, fmt: str) -> Path | None:
        """Where the ``fmt`` image of ``key`` is (or goes); None without a folder."""
        return None if self.folder is None else self.folder / f"{key}.{fmt}"

    def write(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` in the folder atomically (parallel writers are safe)."""
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        temporary = self.folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            temporary.write_bytes(data)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return target


def _file_digest(path: str) -> str | None:
    try:
        return digest(Path(path).read_bytes())
    except OSError:
        return None


# --------------------------------------------------------------------------- reads while tracing

# The files opened while a trace runs, collected by an audit hook (PEP 578).  A hook
# cannot be removed, so one is installed once and does nothing outside recording_reads().
_recording: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "tracegraph_reads", default=None)
_hook_installed = False


def _on_audit_event(event: str, args: tuple) -> None:
    if event != "open":
        return
    reads = _recording.get()
    if reads is None or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    mode = args[1] if len(args) > 1 else None
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return
    reads.append(os.fsdecode(args[0]))


@contextlib.contextmanager
def recording_reads(*, ignore: Iterable[str | os.PathLike] = ()) -> Iterator[list[str]]:
    """Collect the regular files opened for reading inside the block (absolute paths,
    sorted), leaving out Python's and the installed packages' own files and ``ignore``.

    Example:
        >>> import tempfile, pathlib
        >>> data = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
        >>> _ = data.write_text("1,2\\n")
        >>> with recording_reads() as reads:
        ...     _ = data.read_text()
        >>> reads == [str(data.resolve())]
        True
    """
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_on_audit_event)
        _hook_installed = True
    opened: list[str] = []
    found: list[str] = []
    token = _recording.set(opened)
    try:
        yield found
    finally:
        _recording.reset(token)
        skipped = {Path(p).resolve() for p in ignore}
        found.extend(sorted({str(p) for p in map(_resolved, opened)
                             if p is not None and p not in skipped and not _is_installed(p)}))


def _resolved(path: str) -> Path | None:
    if path.endswith(".pyc"):
        # An import read the compiled copy (left by the user's own `python FILE`): the
        # picture depends on the source next to it.
        try:
            path = importlib.util.source_from_cache(path)
        except ValueError:
            return None
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_file() else None


def _is_installed(path: Path) -> bool:
    return is_installed(str(path))
