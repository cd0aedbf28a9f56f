"""Load an expression file (``expr.py``) and trace it: the convention behind ``tracegraph FILE``.

An expression file is ordinary Python.  How it is traced depends on what it
contains, decided in this order (see docs/expr-files.md):

1. **Function mode, by request** - ``function=`` is given (``--function NAME``):
   that function is traced with the file's ``inputs`` dict (or its defaults).
2. **Function mode, by convention** - the file assigns ``inputs = {...}`` or
   ``function = loss`` at the top level: the function named by ``function``,
   else the one function whose parameters match the keys of ``inputs``, is
   traced with ``inputs`` (missing ones from the function's defaults).
3. **The file traces itself** - a top-level statement calls
   ``tracegraph.trace`` or ``tracegraph.Tracer``: the file runs as it is and
   the last :class:`~tracegraph.Trace` it binds to a top-level name is the
   result (``output=`` picks one by name).  Reported as ``mode="function"``.
4. **Script mode** - otherwise the file traces as written: the first
   top-level binding of a name to a number or float array makes that name an
   input, every assignment names the value it binds (``G = A + B + C`` gives
   node ``G``, also inside functions defined in the file), and the output is
   the last traced value assigned at the top level (or ``output=``).

Code under ``if __name__ == "__main__":`` does not run while tracing (the
file runs as module ``__tracegraph__``), so a file can print, plot or train
when run with ``python`` and still trace cleanly.

Assignments to names like ``dS_dG`` or ``dLoss_dw1`` (``d<of>_d<wrt>``) are
hand-derived *claims*: they are recorded in :attr:`ScriptResult.claims`,
never become inputs, never name a node and are never the output.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "neuron.py").write_text(
    ...     "import tracegraph as tg\\n"
    ...     "w1 = 0.5\\nx1 = 2.0\\ngold = 1.0\\n"
    ...     "A = w1 * x1\\n"
    ...     "S = tg.sigmoid(A)\\n"
    ...     "Loss = (gold - S) ** 2\\n"
    ...     "dS_dA = S * (1 - S)\\n")
    >>> result = load_script(folder / "neuron.py")
    >>> result.mode, result.output, sorted(result.inputs)
    ('script', 'Loss', ['gold', 'w1', 'x1'])
    >>> round(result.trace["S"].value, 4), round(result.claims["dS_dA"].value, 4)
    (0.7311, 0.1966)
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import difflib
import inspect
import linecache
import os
import re
import sys
import traceback
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .core import Var, as_python_scalar, is_constant, name as name_value, shape_of
from .errors import ScriptError, TracegraphError, display_path
from .trace import Trace, Tracer

CLAIM_NAME = re.compile(r"^d[A-Za-z0-9_]+_d[A-Za-z0-9_]+$")
"""Names of hand-derived derivative claims: ``dS_dG``, ``dLoss_dw1``."""

MODULE_NAME = "__tracegraph__"
"""``__name__`` of a file while it is traced (so ``__main__`` blocks are skipped)."""

EXIT_USAGE = 2
EXIT_USER_CODE = 3
EXIT_TRACE = 4

_BINDER = "__tracegraph_bind__"
_CONVENTION = (
    "bind numbers or float arrays to names at the top level (w1 = 0.5), compute with them "
    "(Loss = (gold - w1 * x1) ** 2) and the last value assigned is the output; or assign "
    "`inputs = {...}` and define a function whose parameters are its keys. "
    "See docs/expr-files.md"
)


@dataclass(frozen=True)
class ClaimSource:
    """A hand-derived derivative written in the file, e.g. ``dS_dG = 0.2445`` on line 9.

    ``value`` is plain (a float or ndarray), even when the claim was computed
    from traced values (``dS_dG = S * (1 - S)``).

    Example:
        >>> ClaimSource("dS_dG", 0.2445, 9).name
        'dS_dG'
    """

    name: str
    value: Any
    lineno: int


@dataclass(frozen=True)
class Binding:
    """A traced value assigned to a top-level name: a possible ``--output``.

    Example:
        >>> Binding("Loss", 12, ()).describe()
        'Loss (line 12, scalar)'
    """

    name: str
    lineno: int
    shape: tuple[int, ...]

    def describe(self) -> str:
        """``name (line N, scalar)`` or ``name (line N, shape 4×3)``."""
        size = "scalar" if not self.shape else "shape " + "×".join(map(str, self.shape))
        return f"{self.name} (line {self.lineno}, {size})"


@dataclass
class ScriptResult:
    """What :func:`load_script` traced, and from where.

    Attributes:
        trace: the :class:`~tracegraph.Trace` (differentiated when the output is a scalar).
        path: the file.
        mode: ``"script"`` (traced as written) or ``"function"`` (a function was
            traced, by tracegraph or by the file itself).
        inputs: ``{input name: value used}`` (after ``--set`` overrides).
        output: the output node's id in ``trace.graph``.
        claims: hand-derived derivatives (``dS_dG``) by name.
        bindings: traced values assigned to top-level names, in order (script mode).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = path.write_text("x = 3.0\\ny = x * x\\n")
        >>> r = load_script(path)
        >>> r.output, r.trace.value, r.trace.grads
        ('y', 9.0, {'x': 6.0})
    """

    trace: Trace
    path: Path
    mode: Literal["script", "function"]
    inputs: dict[str, Any]
    output: str
    claims: dict[str, ClaimSource] = field(default_factory=dict)
    bindings: tuple[Binding, ...] = ()


# --------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``--set`` text ``NAME=VALUE``: a number or a (nested) list of numbers.

    Lists become float arrays; ``nan`` and ``inf`` are accepted.

    Example:
        >>> parse_override("w1=0.5")
        ('w1', 0.5)
        >>> name, value = parse_override("x = [1, 2.5]")
        >>> name, value.tolist()
        ('x', [1.0, 2.5])
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    example = "e.g. --set w1=0.5 or --set x=[1.0, 2.5]"
    if not sep or not name or not raw:
        raise ScriptError(f"--set {text!r} is not NAME=VALUE ({example})", exit_code=EXIT_USAGE)
    if not name.isidentifier():
        raise ScriptError(f"--set {text!r}: {name!r} is not a Python name ({example})",
                          exit_code=EXIT_USAGE)
    return name, _parse_value(name, raw, example)


def _parse_value(name: str, raw: str, example: str) -> Any:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            return float(raw)  # nan, inf, -inf
        except ValueError:
            value = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            array = None
        if array is not None and _all_numbers(value):
            return array
    raise ScriptError(
        f"--set {name}={raw}: the value must be a number or a list of numbers ({example})",
        exit_code=EXIT_USAGE)


def _all_numbers(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_numbers(item) for item in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _apply_override(name: str, original: Any, new: Any) -> Any:
    """``new`` in place of ``original``, refusing a change of shape (never broadcast silently)."""
    if shape_of(new) != shape_of(original):
        raise ScriptError(
            f"--set {name}: {name} is {_describe_shape(original)} in the file, "
            f"but the new value is {_describe_shape(new)}",
            exit_code=EXIT_USAGE,
            hint=f"give a value of the same shape, e.g. --set {name}={_example_literal(original)}")
    if isinstance(original, float) and isinstance(new, int):
        return float(new)
    return new


def _describe_shape(value: Any) -> str:
    shape = shape_of(value)
    return "a scalar" if not shape else "an array of shape " + "×".join(map(str, shape))


def _example_literal(value: Any) -> str:
    if not shape_of(value):
        return "0.5"
    return repr(np.zeros(shape_of(value)).tolist()).replace(" ", "")


# --------------------------------------------------------------------------- source -> code


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise ScriptError(f"{display_path(path)} is a folder, not a Python file",
                          exit_code=EXIT_USAGE, hint="give the path of a .py file inside it")
    if not path.exists():
        raise ScriptError(f"{display_path(path)} does not exist", exit_code=EXIT_USAGE,
                          hint=_missing_file_hint(path))
    if path.suffix != ".py":
        hint = "tracegraph reads Python files; save the expression as a .py file"
        if path.suffix == ".ipynb":
            hint = "export the notebook to a script first: `jupyter nbconvert --to script NOTEBOOK`"
        raise ScriptError(f"{display_path(path)} is not a Python file (.py)", exit_code=EXIT_USAGE,
                          hint=hint)


def _missing_file_hint(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {display_path(folder)} does not exist either; check the path"
    siblings = sorted(p.name for p in folder.glob("*.py"))
    close = difflib.get_close_matches(path.name, siblings, n=1, cutoff=0.6)
    if close:
        return f"did you mean {display_path(folder / close[0])}?"
    where = "this folder" if str(folder) == "." else display_path(folder)
    if siblings:
        listed = ", ".join(siblings[:8]) + (", ..." if len(siblings) > 8 else "")
        return f"Python files in {where}: {listed}"
    return f"there are no .py files in {where}; check the path"


def _parse(path: Path, filename: str) -> ast.Module:
    try:
        source = path.read_bytes()
    except OSError as err:
        raise ScriptError(f"cannot read {display_path(path)}: {err.strerror}",
                          exit_code=EXIT_USAGE) from err
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as err:
        raise _syntax_error(path, err) from err
    except ValueError as err:  # e.g. null bytes
        raise ScriptError(f"{display_path(path)} is not valid Python source: {err}",
                          exit_code=EXIT_USAGE) from err


def _syntax_error(path: Path, err: SyntaxError) -> ScriptError:
    line = (err.text or "").rstrip("\n")
    where = f"{display_path(path)}:{err.lineno or '?'}:{err.offset or '?'}"
    message = f"{where}: SyntaxError: {err.msg}"
    if line.strip():
        stripped = line.lstrip()
        caret_at = max((err.offset or 1) - 1 - (len(line) - len(stripped)), 0)
        message += f"\n    {stripped}\n    {' ' * caret_at}^"
    return ScriptError(message, exit_code=EXIT_USAGE,
                       hint="fix the Python syntax at that line (the file must run with "
                       "`python FILE`)")


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``"""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    operands = [test.left, *test.comparators]
    return (len(operands) == 2 and isinstance(test.ops[0], ast.Eq)
            and any(isinstance(o, ast.Name) and o.id == "__name__" for o in operands)
            and any(isinstance(o, ast.Constant) and o.value == "__main__" for o in operands))


def _top_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements that run when the file is traced (main guards, defs and classes excluded)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if _is_main_guard(node) or isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield node
        for child_field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(child for child in getattr(node, child_field, ())
                           if isinstance(child, (ast.stmt, ast.excepthandler)))


def _assigned_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for item in target.elts for n in _assigned_names(item)]
    if isinstance(target, ast.Starred):
        return _assigned_names(target.value)
    return []


def _asks_for_function_mode(tree: ast.Module) -> bool:
    """True when a top-level statement assigns ``inputs`` or ``function``."""
    for node in _top_level_statements(tree):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any({"inputs", "function"} & set(_assigned_names(t)) for t in targets):
            return True
    return False


def _traces_itself(tree: ast.Module) -> bool:
    """True when a top-level statement calls tracegraph.trace / tracegraph.Tracer."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == "tracegraph")
        elif isinstance(node, ast.ImportFrom) and node.module == "tracegraph":
            functions.update(a.asname or a.name for a in node.names
                             if a.name in ("trace", "Tracer"))
    for statement in _top_level_statements(tree):
        nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
        for node in _walk_outside(statement, nested):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in functions:
                return True
            if (isinstance(func, ast.Attribute) and func.attr in ("trace", "Tracer")
                    and isinstance(func.value, ast.Name) and func.value.id in modules):
                return True
    return False


def _walk_outside(node: ast.AST, skip: tuple[type, ...]) -> Iterator[ast.AST]:
    """ast.walk, not entering nested definitions, nor child statements (visited separately)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, skip) or isinstance(child, ast.stmt):
                continue
            pending.append(child)


class _NamingTransformer(ast.NodeTransformer):
    """Make every assignment report ``(name, value, line, at_top_level)`` to the binder.

    ``NAME = expr`` becomes ``NAME = __tracegraph_bind__("NAME", expr, line, top)``;
    other forms (``a, b = ...``, ``a = b = ...``, ``y += ...``) are followed by
    ``a = __tracegraph_bind__("a", a, line, top)`` for each name bound.  Line
    numbers and columns are kept, so tracebacks point at the user's code.
    """

    def __init__(self) -> None:
        self.depth = 0

    def _bind_call(self, name: str, value: ast.expr, lineno: int) -> ast.Call:
        call = ast.Call(
            func=ast.Name(_BINDER, ast.Load()),
            args=[ast.Constant(name), value, ast.Constant(lineno), ast.Constant(self.depth == 0)],
            keywords=[])
        return ast.copy_location(call, value)

    def _rebind(self, names: list[str], statement: ast.stmt) -> list[ast.stmt]:
        rebinds = []
        for name in names:
            load = ast.copy_location(ast.Name(name, ast.Load()), statement)
            assign = ast.Assign(targets=[ast.Name(name, ast.Store())],
                                value=self._bind_call(name, load, statement.lineno))
            rebinds.append(ast.copy_location(assign, statement))
        return rebinds

    def _nested(self, node: ast.AST) -> ast.AST:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _nested

    def visit_Assign(self, node: ast.Assign) -> Any:
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            node.value = self._bind_call(node.targets[0].id, node.value, node.lineno)
            return node
        names = [n for target in node.targets for n in _assigned_names(target)]
        return [node, *self._rebind(list(dict.fromkeys(names)), node)]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            node.value = self._bind_call(node.target.id, node.value, node.lineno)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            return [node, *self._rebind([node.target.id], node)]
        return node

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Any:
        self.generic_visit(node)
        node.value = self._bind_call(node.target.id, node.value, node.lineno)
        return node


# --------------------------------------------------------------------------- the binder


def _plain(value: Any) -> Any:
    """A claim's value as a plain float / ndarray."""
    value = value.value if type(value) is Var else value
    if isinstance(value, (list, tuple)) and _all_numbers(value):
        return np.asarray(value, dtype=float)
    return as_python_scalar(value)


def _is_input_value(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


class _Binder:
    """Called by the transformed code at every assignment; names, declares inputs, records.

    With a ``tracer`` (script mode) the first top-level binding of a name to a
    number or float array declares an input; integer arrays and
    ``tracegraph.constant(...)`` values become named constants.  Without one,
    top-level numbers are only replaced by their ``--set`` overrides.
    """

    def __init__(self, tracer: Tracer | None, overrides: Mapping[str, Any]) -> None:
        self.tracer = tracer
        self.overrides = dict(overrides)
        self.used_overrides: set[str] = set()
        self.seen: set[str] = set()
        self.inputs: dict[str, Any] = {}
        self.settable: list[str] = []
        self.claims: dict[str, ClaimSource] = {}
        self.latest: dict[str, Var] = {}
        self.bindings: list[tuple[Binding, Var]] = []
        self.traces: list[tuple[str, Trace]] = []
        self._named_at_top: dict[int, Var] = {}
        self._auto_named: dict[int, Var] = {}

    def __call__(self, name: str, value: Any, lineno: int, top_level: bool) -> Any:
        if CLAIM_NAME.match(name):
            if top_level:
                self.claims[name] = ClaimSource(name, _plain(value), lineno)
            return value
        if top_level and name not in self.seen:
            self.seen.add(name)
            value = self._declare(name, value)
        if isinstance(value, Trace) and top_level:
            self.traces.append((name, value))
        if type(value) is not Var:
            return value
        self.latest[name] = value
        if top_level:
            self._name_at_top_level(name, value, lineno)
        elif value.name is None:
            name_value(value, name)
            self._auto_named[id(value)] = value
        return value

    def _declare(self, name: str, value: Any) -> Any:
        if is_constant(value):
            return self.tracer.constant(name, value) if self.tracer else value
        if not _is_input_value(value):
            if self.tracer is not None and isinstance(value, np.ndarray) and \
                    value.dtype.kind in "iub":
                return self.tracer.constant(name, value)
            return value
        self.settable.append(name)
        if name in self.overrides:
            value = _apply_override(name, value, self.overrides[name])
            self.used_overrides.add(name)
        if self.tracer is None:
            return value
        self.inputs[name] = value
        return self.tracer.input(name, value)

    def _name_at_top_level(self, name: str, value: Var, lineno: int) -> None:
        # Top-level names win over names given automatically inside functions
        # (h1 = layer(x) renames layer's `out`), but an alias (S2 = S) never renames,
        # nor does it override a name the user gave with tracegraph.name().
        # Only a newly computed value is a candidate for the output, not an alias.
        key = id(value)
        if key in self._named_at_top:
            return
        if value.name is None or key in self._auto_named:
            name_value(value, name, replace=True)
            self._auto_named.pop(key, None)
        self._named_at_top[key] = value
        if value.primitive is not None:
            self.bindings.append((Binding(name, lineno, shape_of(value.value)), value))

    def check_overrides(self, path: Path) -> None:
        unused = [name for name in self.overrides if name not in self.used_overrides]
        if unused:
            raise _unknown_override(unused[0], path, self.settable)


def _unknown_override(name: str, path: Path, settable: list[str]) -> ScriptError:
    listed = ", ".join(settable) if settable else "(none)"
    close = difflib.get_close_matches(name, settable, n=1)
    hint = f"did you mean --set {close[0]}=...?" if close else (
        "--set replaces the value of an input: a top-level name first bound to a number or "
        "float array (or a key of the `inputs` dict)")
    return ScriptError(f"--set {name}: {name!r} is not an input of {display_path(path)}; "
                       f"its inputs are: {listed}", exit_code=EXIT_USAGE, hint=hint)


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def _running_as_script(path: Path, module: types.ModuleType) -> Iterator[None]:
    """sys.path[0], sys.argv and sys.modules as ``python FILE`` would set them; no .pyc files."""
    saved = (list(sys.path), list(sys.argv), sys.dont_write_bytecode,
             sys.modules.get(MODULE_NAME))
    sys.path.insert(0, str(path.parent))
    sys.argv = [str(path)]
    sys.dont_write_bytecode = True
    sys.modules[MODULE_NAME] = module
    try:
        yield
    finally:
        sys.path[:], sys.argv[:] = saved[0], saved[1]
        sys.dont_write_bytecode = saved[2]
        if saved[3] is None:
            sys.modules.pop(MODULE_NAME, None)
        else:
            sys.modules[MODULE_NAME] = saved[3]


def _user_code_error(err: BaseException, path: Path, filename: str) -> ScriptError:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == filename]
    what = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if isinstance(err, SystemExit):
        return ScriptError(
            f"{display_path(path)} called sys.exit({err.code!r}) while being traced",
            exit_code=EXIT_USER_CODE,
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
    return ScriptError(message, exit_code=EXIT_USER_CODE,
                       hint="this error comes from the file itself, not from tracegraph; fix the "
                       "line shown (run with --debug for the full traceback)")


def _execute(code: types.CodeType, path: Path, filename: str, binder: _Binder) -> dict[str, Any]:
    module = types.ModuleType(MODULE_NAME)
    namespace = module.__dict__
    namespace.update(__file__=str(path), __builtins__=builtins, __cached__=None)
    namespace[_BINDER] = binder
    with _running_as_script(path, module), _user_errors(path, filename):
        exec(code, namespace)
    return namespace


@contextlib.contextmanager
def _user_errors(path: Path, filename: str) -> Iterator[None]:
    try:
        yield
    except TracegraphError:
        raise
    except (Exception, SystemExit) as err:
        raise _user_code_error(err, path, filename) from err


def load_script(path: str | os.PathLike[str], *, overrides: Mapping[str, Any] | None = None,
                output: str | None = None, function: str | None = None) -> ScriptResult:
    """Run an expression file and trace it (see the module docstring for the rules).

    Args:
        path: the ``.py`` file.
        overrides: ``{input name: value}`` replacing inputs' values (``--set``);
            a name that is not an input is an error listing the inputs.
        output: the name of the value to end the trace at (``--output``)
            instead of the last one assigned.
        function: trace this function of the file (``--function``).

    Raises:
        ScriptError: with ``exit_code`` 2 for file/usage problems, 3 when the
            file's own code raised, 4 when nothing traceable was found.
        TracegraphError: unsupported operations and other tracing problems,
            pointing at the file's line.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.py"
        >>> _ = path.write_text("a = 2.0\\nb = a * a\\nc = b + 1.0\\n")
        >>> load_script(path, overrides={"a": 3.0}, output="b").trace.value
        9.0
    """
    path = Path(path)
    _check_path(path)
    filename = str(path.resolve())
    tree = _parse(path, filename)
    overrides = dict(overrides or {})
    if function is not None or _asks_for_function_mode(tree):
        return _load_function(tree, path, filename, overrides, output, function)
    if _traces_itself(tree):
        return _load_self_traced(tree, path, filename, overrides, output)
    return _load_script_mode(tree, path, filename, overrides, output)


def _compile(tree: ast.Module, filename: str) -> types.CodeType:
    transformed = ast.fix_missing_locations(_NamingTransformer().visit(tree))
    return compile(transformed, filename, "exec", dont_inherit=True)


def _load_script_mode(tree: ast.Module, path: Path, filename: str,
                      overrides: dict[str, Any], output: str | None) -> ScriptResult:
    code = _compile(tree, filename)
    tracer = Tracer()
    binder = _Binder(tracer, overrides)
    with tracer:
        _execute(code, path, filename, binder)
        binder.check_overrides(path)
        if not binder.bindings and binder.traces and output is None:
            # The file traced something itself from a helper function.
            tracer.tape.closed = True
            return _self_traced_result(binder, path, output)
        target, output_name = _script_output(binder, path, tree, output)
        trace = tracer.finish(target, name=output_name)
    return ScriptResult(trace, path, "script", dict(binder.inputs), _output_id(trace),
                        dict(binder.claims), tuple(b for b, _ in binder.bindings))


def _script_output(binder: _Binder, path: Path, tree: ast.Module,
                   output: str | None) -> tuple[Var, str]:
    if output is not None:
        return _named_output(binder, path, output), output
    if not binder.bindings:
        raise _no_traced_value(binder, path, tree)
    binding, target = binder.bindings[-1]
    return target, binding.name


def _named_output(binder: _Binder, path: Path, output: str) -> Var:
    if CLAIM_NAME.match(output):
        raise ScriptError(
            f"--output {output}: {output!r} is a hand-derived derivative (a claim), not a "
            "traced value", exit_code=EXIT_USAGE,
            hint="choose the value the derivatives are of, e.g. the loss")
    target = binder.latest.get(output)
    if target is None:
        raise ScriptError(
            f"--output {output}: no traced value named {output!r} in {display_path(path)}",
            exit_code=EXIT_USAGE, hint=_candidates_hint(binder.bindings, output))
    return target


def _candidates_hint(bindings: list[tuple[Binding, Var]], wanted: str | None = None) -> str:
    names = list(dict.fromkeys(b.name for b, _ in bindings))
    if not names:
        return "no value computed from the inputs is assigned at the top level"
    close = difflib.get_close_matches(wanted, names, n=1) if wanted else []
    prefix = f"did you mean {close[0]}? " if close else ""
    return prefix + "traced values assigned at the top level: " + ", ".join(names)


def _no_traced_value(binder: _Binder, path: Path, tree: ast.Module) -> ScriptError:
    if binder.inputs:
        found = ("its inputs are " + ", ".join(binder.inputs)
                 + ", but no top-level assignment computes a value from them")
    else:
        found = "no top-level name is bound to a number or float array, so it has no inputs"
    if any(_is_main_guard(node) for node in tree.body):
        found += ' (code under `if __name__ == "__main__":` does not run when tracing)'
    return ScriptError(f"no traced value found in {display_path(path)}: {found}",
                       exit_code=EXIT_TRACE, hint=_CONVENTION)


def _output_id(trace: Trace) -> str:
    return trace.graph.graph["output"]


def _load_self_traced(tree: ast.Module, path: Path, filename: str,
                      overrides: dict[str, Any], output: str | None) -> ScriptResult:
    binder = _Binder(None, overrides)
    _execute(_compile(tree, filename), path, filename, binder)
    binder.check_overrides(path)
    return _self_traced_result(binder, path, output)


def _self_traced_result(binder: _Binder, path: Path, output: str | None) -> ScriptResult:
    traces = dict(binder.traces)
    if not traces:
        raise ScriptError(
            f"{display_path(path)} calls tracegraph.trace, but binds no Trace to a top-level name",
            exit_code=EXIT_TRACE,
            hint="assign the result at the top level (t = tracegraph.trace(loss, w=0.5)), or "
            "remove the call and let tracegraph trace the file: " + _CONVENTION)
    if output is None:
        trace = binder.traces[-1][1]
    elif output in traces:
        trace = traces[output]
    else:
        raise ScriptError(
            f"--output {output}: {display_path(path)} binds no Trace named {output!r}",
            exit_code=EXIT_USAGE,
            hint="this file traces itself; --output picks one of its Trace variables: "
            + ", ".join(traces))
    return ScriptResult(trace, path, "function", dict(trace.inputs), _output_id(trace),
                        dict(binder.claims))


# --------------------------------------------------------------------------- function mode


def _load_function(tree: ast.Module, path: Path, filename: str, overrides: dict[str, Any],
                   output: str | None, function: str | None) -> ScriptResult:
    binder = _Binder(None, {})
    namespace = _execute(_compile(tree, filename), path, filename, binder)
    fn = _pick_function(namespace, path, filename, function)
    inputs = _function_inputs(namespace, fn, path)
    for name, value in overrides.items():
        if name not in inputs:
            raise _unknown_override(name, path, list(inputs))
        inputs[name] = _apply_override(name, inputs[name], value)
    binder.latest.clear()
    tracer = Tracer()
    with tracer, _user_errors(path, filename):
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        result = fn(**arguments)
        if output is not None:
            result = _function_output(binder, fn, path, output)
        trace = tracer.finish(result, name=output or fn.__name__)
    return ScriptResult(trace, path, "function", inputs, _output_id(trace), dict(binder.claims))


def _function_output(binder: _Binder, fn: Any, path: Path, output: str) -> Var:
    target = binder.latest.get(output)
    if target is None:
        names = ", ".join(binder.latest) or "(none)"
        raise ScriptError(
            f"--output {output}: {fn.__name__}() in {display_path(path)} assigns no traced value "
            f"named {output!r}", exit_code=EXIT_USAGE,
            hint=f"traced values assigned while it ran: {names}")
    return target


def _functions_of(namespace: dict[str, Any], filename: str) -> dict[str, Any]:
    return {name: obj for name, obj in namespace.items()
            if inspect.isfunction(obj) and obj.__code__.co_filename == filename}


def _pick_function(namespace: dict[str, Any], path: Path, filename: str,
                   requested: str | None) -> Any:
    functions = _functions_of(namespace, filename)
    if requested is None and "function" in namespace:
        chosen = namespace["function"]
        if callable(chosen):
            return chosen
        requested = str(chosen)
    if requested is not None:
        if requested in functions:
            return functions[requested]
        listed = ", ".join(functions) or "(none)"
        raise ScriptError(f"{display_path(path)} defines no function named {requested!r}",
                          exit_code=EXIT_USAGE, hint=f"functions defined in it: {listed}")
    inputs = namespace.get("inputs")
    keys = set(inputs) if isinstance(inputs, dict) else set()
    matching = [fn for fn in functions.values() if _accepts(fn, keys)]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        described = "; ".join(f"{n}{inspect.signature(f)}" for n, f in functions.items())
        raise ScriptError(
            f"{display_path(path)} assigns `inputs` with keys {', '.join(sorted(keys)) or '(none)'}, "
            "but defines no function whose parameters match them",
            exit_code=EXIT_TRACE,
            hint=(f"functions defined: {described}. " if described else "")
            + "Make the keys of `inputs` the parameter names of the function to trace, or "
            "name it: `function = loss` in the file, or --function NAME")
    names = ", ".join(fn.__name__ for fn in matching)
    raise ScriptError(
        f"{display_path(path)}: several functions take the parameters in `inputs`: {names}",
        exit_code=EXIT_USAGE,
        hint=f"say which one to trace: add `function = {matching[0].__name__}` to the file, or "
        f"pass --function {matching[0].__name__}")


def _accepts(fn: Any, keys: set[str]) -> bool:
    parameters = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in parameters) or not keys:
        return False
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {p.name for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    return required <= keys and (accepts_any or keys <= named)


def _function_inputs(namespace: dict[str, Any], fn: Any, path: Path) -> dict[str, Any]:
    inputs = namespace.get("inputs")
    defaults = {p.name: p.default for p in inspect.signature(fn).parameters.values()
                if p.default is not p.empty}
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise ScriptError(
            f"`inputs` in {display_path(path)} is a {type(inputs).__name__}; it must be a dict "
            "from parameter names to values", exit_code=EXIT_TRACE,
            hint=f"e.g. inputs = {{'w': 0.5, 'b': 0.1}} for def {fn.__name__}(w, b)")
    merged = {**defaults, **inputs}
    missing = [p.name for p in inspect.signature(fn).parameters.values()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and p.name not in merged]
    if missing:
        raise ScriptError(
            f"{fn.__name__}() in {display_path(path)} needs {', '.join(missing)}, which `inputs` does "
            "not give", exit_code=EXIT_TRACE,
            hint="add them to the `inputs` dict, or give the parameters default values")
    return {name: value for name, value in merged.items() if isinstance(name, str)}


# --------------------------------------------------------------------------- for the commands


def require_gradients(result: ScriptResult) -> None:
    """Raise a clear :class:`ScriptError` (exit 4) when the output is not a scalar.

    Commands that show gradients call this: an array output has a Jacobian,
    not a gradient, and the message lists the scalar values one could pick.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.py"
        >>> _ = path.write_text("import numpy as np\\nx = np.ones(2)\\nloss = np.sum(x * x)\\n"
        ...                     "y = x * 2.0\\n")
        >>> try:
        ...     require_gradients(load_script(path))
        ... except ScriptError as err:
        ...     print(err.message)
        the output 'y' has shape (2,): it has no gradient (d output/d input would be a Jacobian)
    """
    shape = shape_of(result.trace.value)
    if not shape:
        return
    scalars = [b for b in result.bindings if not b.shape and b.name != result.output]
    if scalars:
        choices = ", ".join(dict.fromkeys(b.describe() for b in scalars))
        hint = f"pick a scalar output with --output NAME (scalar values in the file: {choices})"
    else:
        hint = (f"reduce the output to a scalar loss in the file, e.g. np.sum({result.output}) or "
                f"np.mean({result.output})")
    raise ScriptError(
        f"the output {result.output!r} has shape {shape}: it has no gradient "
        "(d output/d input would be a Jacobian)", exit_code=EXIT_TRACE,
        hint=hint + "; or show values only (render --show values, export)")
