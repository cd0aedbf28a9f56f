"""Running an expression file: as ``python FILE`` would, with its errors explained.

The file runs as module :data:`MODULE_NAME` (so ``if __name__ ==
"__main__":`` blocks are skipped), with its folder first on ``sys.path``;
an exception of its own becomes a :class:`~tracegraph.errors.UserCodeError`
naming the file's lines.

Example:
    >>> import pathlib, tempfile
    >>> from tracegraph.script import load_script
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "boom.py"
    ...     _ = path.write_text("x = 1.0\\ny = x / 0\\n")
    ...     try:
    ...         load_script(path)
    ...     except UserCodeError as err:
    ...         print(err.message.splitlines()[0].replace(folder, "<folder>"))
    your code in <folder>/boom.py raised ZeroDivisionError: float division by zero at line 2
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import site
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.leaks import explained
from ..core.var import FILE_MODULE
from ..errors import (
    SourceLocation,
    TracegraphError,
    UnsupportedOperationError,
    UserCodeError,
    display_path,
    mention,
)
from .binder import Binder
from .python_builtins import file_builtins
from .source import BINDER

_PACKAGE = str(Path(__file__).resolve().parent.parent)  # tracegraph, wherever it runs from

MODULE_NAME = FILE_MODULE
"""``__name__`` of a file while it is traced (so ``__main__`` blocks are skipped)."""

HIDDEN_BY_PYTHON = (ResourceWarning, PendingDeprecationWarning, ImportWarning)
"""Warnings ``python FILE`` does not show (Python's default filters; DeprecationWarning is
shown for ``__main__``), so neither a command nor a docs page reports them."""


@contextlib.contextmanager
def output_hidden() -> Iterator[None]:
    """The file's prints are dropped: for the runs of a file after its first (a Hessian
    traces it again, a descent retraces it), so the user sees its output once, as
    ``python FILE`` shows it.

    Example:
        >>> with output_hidden():
        ...     print("not shown")
        >>> print("shown")
        shown
    """
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


@contextlib.contextmanager
def _running_as_script(path: Path, module: types.ModuleType) -> Iterator[None]:
    """sys.path[0], sys.argv and sys.modules as ``python FILE`` would set them; no .pyc files.

    The working folder is put back afterwards: a file may ``os.chdir`` (to read its data
    next to it), and ``-o out.svg``, a Sphinx build or the next file must not follow it.
    """
    saved = (list(sys.path), list(sys.argv), sys.dont_write_bytecode,
             sys.modules.get(MODULE_NAME))
    try:
        folder: str | None = os.getcwd()
    except OSError:  # the folder was deleted under us: nothing to go back to
        folder = None
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # absolute, as python's
    sys.argv = [str(path)]
    sys.dont_write_bytecode = True
    sys.modules[MODULE_NAME] = module
    try:
        with _fresh_local_modules():
            yield
    finally:
        if folder is not None:
            with contextlib.suppress(OSError):  # the file deleted it
                os.chdir(folder)
        sys.path[:], sys.argv[:] = saved[0], saved[1]
        sys.dont_write_bytecode = saved[2]
        if saved[3] is None:
            sys.modules.pop(MODULE_NAME, None)
        else:
            sys.modules[MODULE_NAME] = saved[3]


@contextlib.contextmanager
def _fresh_local_modules() -> Iterator[None]:
    """Inside the block, the user's own modules (``.py`` files outside Python and the
    installed packages) are imported afresh, as in a new interpreter; afterwards the
    ones imported before are back and the block's are gone.

    Without this, two files that each ``import helper`` from their own folder, traced in
    one process (a docs build), would both get the first folder's ``helper``, and an
    edited helper would not be read again.
    """
    hidden = {name: m for name, m in list(sys.modules.items()) if _is_users_module(m)}
    for name in hidden:
        del sys.modules[name]
    try:
        yield
    finally:
        for name, m in list(sys.modules.items()):
            if _is_users_module(m):
                del sys.modules[name]
        sys.modules.update(hidden)


def _is_users_module(module: Any) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and file.endswith(".py") and not is_installed(file) \
        and getattr(module, "__name__", None) not in (MODULE_NAME, "__main__")


@functools.lru_cache(maxsize=4096)
def is_installed(file: str) -> bool:
    """True for a file of Python itself, of an installed package or of tracegraph.

    Example:
        >>> is_installed(contextlib.__file__), is_installed("/home/me/notes/helper.py")
        (True, False)
    """
    try:
        resolved = Path(file).resolve()
    except (OSError, RuntimeError):
        return True  # not a file we could re-import anyway
    return any(resolved.is_relative_to(root) for root in _installed_roots())


@functools.lru_cache(maxsize=1)
def _installed_roots() -> tuple[Path, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
             site.getusersitepackages(), _PACKAGE}
    return tuple(Path(root).resolve() for root in roots if root)


def _file_frames(err: BaseException, filename: str) -> list[traceback.FrameSummary]:
    """The traceback's frames in the file, each line once."""
    frames: list[traceback.FrameSummary] = []
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename != filename:
            continue
        if frames and frame.name == "<lambda>" and frame.lineno == frames[-1].lineno:
            continue  # the binder's thunk of a claim: the same line again
        frames.append(frame)
    return frames


def _user_code_error(err: BaseException, path: Path, filename: str) -> UserCodeError:
    frames = _file_frames(err, filename)
    what = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if isinstance(err, SystemExit):
        return UserCodeError(
            f"{display_path(path)} called sys.exit({err.code!r}) while being traced",
            hint='move that code under `if __name__ == "__main__":`, which does not run when '
            "tracegraph traces the file")
    lines = []
    for frame in frames:
        scope = "" if frame.name == "<module>" else f", in {frame.name}"
        lines.append(f"  {display_path(path)}:{frame.lineno}{scope}")
        source = frame.line or linecache.getline(filename, frame.lineno or 0).strip()
        if source:
            lines.append(f"    {source}")
    where = f" at line {frames[-1].lineno}" if frames else ""
    message = f"your code in {display_path(path)} raised {what}{where}"
    if lines:
        message += "\n" + "\n".join(lines)
    if _about_an_array_of_traced_numbers(err):
        return UserCodeError(message, hint=(
            "numpy met an array of traced numbers (np.array([a, b]) written inside the "
            "call, which numpy keeps as an array of objects): assign it to a name first "
            "(M = np.array([[a, b], [b, a + 1]])), which tracegraph traces as one array, or "
            "build it with np.stack"))
    return UserCodeError(message, hint="this error comes from the file itself, not from "
                         f"tracegraph; fix the line shown ({mention('traceback')})")


def _about_an_array_of_traced_numbers(err: BaseException) -> bool:
    text = str(err)
    return isinstance(err, (TypeError, ValueError)) and (
        "dtype('O')" in text or "type Var" in text or "'Var'" in text)


def execute(code: types.CodeType, path: Path, filename: str, binder: Binder) -> dict[str, Any]:
    """Run the file's (transformed) code as ``python FILE`` would, reporting to ``binder``;
    its namespace afterwards.  An exception of the file's own becomes a
    :class:`~tracegraph.errors.UserCodeError`.

    Example:
        >>> import ast
        >>> from tracegraph.script.source import compile_tree
        >>> code = compile_tree(ast.parse("x = 1.0\\ny = x * 3\\n"), "expr.py")
        >>> namespace = execute(code, Path("expr.py"), "expr.py", Binder(None, {"x": 2.0}))
        >>> namespace["y"], namespace["__name__"]   # x overridden; run as __tracegraph__
        (6.0, '__tracegraph__')
    """
    module = types.ModuleType(MODULE_NAME)
    namespace = module.__dict__
    # python FILE makes __main__'s __file__ absolute (3.9+), so os.path.dirname(__file__)
    # names the file's folder even for a bare `hw.py`.
    namespace.update(__file__=os.path.abspath(path), __builtins__=file_builtins(_is_users_module),
                     __cached__=None)
    namespace[BINDER] = binder
    binder.namespace = namespace  # claims read Python's meaning of their names from it
    with _running_as_script(path, module), user_errors(path, filename):
        exec(code, namespace)
    return namespace


@contextlib.contextmanager
def user_errors(path: Path, filename: str) -> Iterator[None]:
    """Inside the block, an exception raised by the file's code (``filename``) becomes a
    :class:`~tracegraph.errors.UserCodeError` showing its lines; tracegraph's own pass.

    Example:
        >>> try:
        ...     with user_errors(Path("<expr>"), "<expr>"):
        ...         exec(compile("x = 1.0\\ny = x / 0", "<expr>", "exec"), {})
        ... except UserCodeError as err:
        ...     print(err.message)
        your code in <expr> raised ZeroDivisionError: float division by zero at line 2
          <expr>:2
    """
    try:
        yield
    except TracegraphError:
        raise
    except (Exception, SystemExit) as err:
        refusal = explained(err)  # numpy's words for v[i] = traced: not the file's fault
        if refusal is not None:
            raise refusal from err
        if _tracegraphs_own(err):
            raise  # a bug in tracegraph, reported as one (not blamed on the file)
        if isinstance(err, TypeError) and str(err) == _JSON_OF_A_TRACED_NUMBER:
            raise _json_error(err, path, filename) from err
        raise _user_code_error(err, path, filename) from err


# json's words for an object it cannot write, with the class a traced number claims:
# a real float always can be written, so this is never the file's own error.
_JSON_OF_A_TRACED_NUMBER = "Object of type float is not JSON serializable"


def _json_error(err: TypeError, path: Path, filename: str) -> UnsupportedOperationError:
    frames = _file_frames(err, filename)
    location = None
    if frames:
        line = frames[-1].line or linecache.getline(filename, frames[-1].lineno or 0).strip()
        location = SourceLocation(display_path(path), frames[-1].lineno or 0, line, "")
    return UnsupportedOperationError(
        "json.dumps", reason="json cannot write tracegraph's traced numbers",
        location=location,
        hint="write float(NAME) for each traced number inside print(json.dumps(...)), "
        'or move the JSON output under `if __name__ == "__main__":`, which tracegraph '
        "does not run")


def _tracegraphs_own(err: BaseException) -> bool:
    """A name or assertion error raised by tracegraph's own code: never the file's doing
    (a numpy error inside a rule, say of mismatched shapes, still is)."""
    if not isinstance(err, (NameError, AssertionError)):
        return False
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(_PACKAGE)
