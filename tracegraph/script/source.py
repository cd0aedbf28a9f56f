"""Reading an expression file: the checks before it runs, and the naming transform.

:func:`read_source` turns a path into a syntax tree (or a
:class:`~tracegraph.errors.ScriptFileError` saying what is wrong with the
file); :func:`asks_for_function_mode` and :func:`traces_itself` read which
mode the file wants; :func:`compile_tree` makes every assignment report to
the binder (:class:`NamingTransformer`), so ``G = A + B`` names node ``G``.

Example:
    >>> import ast
    >>> tree = ast.parse("inputs = {'w': 0.5}\\ndef loss(w): return w * w\\n")
    >>> asks_for_function_mode(tree), traces_itself(tree)
    (True, False)
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..check.names import is_claim_name
from ..errors import ScriptFileError, display_path

BINDER = "__tracegraph_bind__"
"""The name the transformed code calls at every assignment (a :class:`~.binder.Binder`)."""


def read_source(path: Path) -> tuple[ast.Module, str]:
    """The file's syntax tree and the filename its code runs under (its absolute path).

    Raises :class:`~tracegraph.errors.ScriptFileError` when the file is
    missing, a folder, not ``.py``, unreadable or not valid Python.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "expr.py"; _ = path.write_text("y = 2.0 * 3\\n")
        ...     tree, filename = read_source(path)
        ...     ast.unparse(tree), filename == str(path.resolve())
        ('y = 2.0 * 3', True)
    """
    _check_path(path)
    filename = str(path.resolve())
    return _parse(path, filename), filename


def compile_tree(tree: ast.Module, filename: str) -> types.CodeType:
    """The file's code with every assignment reporting to :data:`BINDER`.

    Example:
        >>> code = compile_tree(ast.parse("y = 2.0 * 3"), "expr.py")
        >>> namespace = {BINDER: lambda name, value, *where: print(name, value, where) or value}
        >>> exec(code, namespace)
        y 6.0 (1, True, ())
    """
    transformed = ast.fix_missing_locations(NamingTransformer(filename).visit(tree))
    return compile(transformed, filename, "exec", dont_inherit=True)


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise ScriptFileError(f"{display_path(path)} is a folder, not a Python file",
                              hint="give the path of a .py file inside it")
    if not path.exists():
        raise ScriptFileError(f"{display_path(path)} does not exist",
                              hint=_missing_file_hint(path))
    if path.suffix != ".py":
        hint = "tracegraph reads Python files; save the expression as a .py file"
        if path.suffix == ".ipynb":
            hint = "export the notebook to a script first: `jupyter nbconvert --to script NOTEBOOK`"
        raise ScriptFileError(f"{display_path(path)} is not a Python file (.py)", hint=hint)


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
        raise ScriptFileError(f"cannot read {display_path(path)}: {err.strerror}") from err
    if b"\0" in source:
        raise ScriptFileError(f"{display_path(path)} contains null bytes: it is not Python "
                              "source (a binary file?)", hint="give the .py file of the "
                              "expression")
    _check_encoding(path, source)
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as err:
        raise _syntax_error(path, err) from err
    except ValueError as err:  # e.g. null bytes
        raise ScriptFileError(
            f"{display_path(path)} is not valid Python source: {err}") from err


def _check_encoding(path: Path, source: bytes) -> None:
    """Refuse what ``python FILE`` refuses: bytes that are not in the file's encoding
    (UTF-8 unless a ``# -*- coding: ... -*-`` line says otherwise), comments included."""
    encoding = "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        source.decode(encoding)
    except SyntaxError as err:
        # detect_encoding reads the first two lines as UTF-8 to look for a coding line;
        # bytes it cannot read there are a decoding problem, not a syntax one.
        try:
            source.decode(encoding)
        except UnicodeDecodeError as undecodable:
            raise _not_decodable(path, source, encoding, undecodable) from err
        raise _coding_line_error(path, source, err) from err
    except UnicodeDecodeError as err:
        raise _not_decodable(path, source, encoding, err) from err


def _not_decodable(path: Path, source: bytes, encoding: str,
                   err: UnicodeDecodeError) -> ScriptFileError:
    line = source[:err.start].count(b"\n") + 1
    return ScriptFileError(
        f"{display_path(path)}:{line}: the file is not valid {encoding} (byte "
        f"{source[err.start:err.start + 1]!r}), so python refuses to run it",
        hint="save the file as UTF-8, or declare its encoding on the first line: "
        "# -*- coding: latin-1 -*-")


def _coding_line_error(path: Path, source: bytes, err: SyntaxError) -> ScriptFileError:
    """An unknown encoding in a ``# coding:`` line, located at that line (PEP 263: line 1 or 2)."""
    first_two = source.splitlines()[:2]
    line = next((n for n, text in enumerate(first_two, 1) if b"coding" in text), 1)
    return ScriptFileError(
        f"{display_path(path)}:{line}: {err.msg}",
        hint="name an encoding python knows (# -*- coding: utf-8 -*-), or delete that line "
        "and save the file as UTF-8")


def _syntax_error(path: Path, err: SyntaxError) -> ScriptFileError:
    line = (err.text or "").rstrip("\n")
    where = display_path(path) + "".join(f":{n}" for n in (err.lineno, err.offset) if n)
    message = f"{where}: SyntaxError: {err.msg}"
    if line.strip():
        stripped = line.lstrip()
        caret_at = max((err.offset or 1) - 1 - (len(line) - len(stripped)), 0)
        message += f"\n    {stripped}\n    {' ' * caret_at}^"
    return ScriptFileError(message, hint="fix the Python syntax at that line (the file must "
                           "run with `python FILE`)")


def is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``

    Example:
        >>> tree = ast.parse('if __name__ == "__main__":\\n    main()\\nif x == 1:\\n    pass')
        >>> [is_main_guard(node) for node in tree.body]
        [True, False]
    """
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
        if is_main_guard(node) or isinstance(
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


def asks_for_function_mode(tree: ast.Module) -> bool:
    """True when a top-level statement assigns ``inputs`` or ``function``.

    Example:
        >>> asks_for_function_mode(ast.parse("inputs = {'w': 0.5}"))
        True
        >>> asks_for_function_mode(ast.parse('if __name__ == "__main__":\\n    inputs = {}'))
        False
    """
    for node in _top_level_statements(tree):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any({"inputs", "function"} & set(_assigned_names(t)) for t in targets):
            return True
    return False


def changed_in_place(tree: ast.Module) -> frozenset[str]:
    """Top-level names whose value the file changes in place (``onehot[i, y] = 1.0``,
    ``x[0] += 1``): data being built, so the binder keeps them constants.

    Example:
        >>> sorted(changed_in_place(ast.parse("a = np.zeros(3)\\na[0] = 1.0\\nb = a * 2")))
        ['a']
    """
    names = set()
    for statement in _top_level_statements(tree):
        targets = (statement.targets if isinstance(statement, ast.Assign)
                   else [statement.target] if isinstance(statement, (ast.AugAssign,
                                                                    ast.AnnAssign)) else [])
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                    names.add(node.value.id)
    return frozenset(names)


def traces_itself(tree: ast.Module) -> bool:
    """True when a top-level statement calls tracegraph.trace / tracegraph.Tracer.

    Example:
        >>> traces_itself(ast.parse("import tracegraph as tg\\nt = tg.trace(f, x=1.0)"))
        True
        >>> traces_itself(ast.parse("import tracegraph as tg\\ndef f(x): return tg.trace(g, x=x)"))
        False
    """
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == "tracegraph")
        elif isinstance(node, ast.ImportFrom) and node.module == "tracegraph":
            functions.update(a.asname or a.name for a in node.names
                             if a.name in ("trace", "Tracer"))
    if not modules and not functions:  # never imported: nothing to look for
        return False
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


class NamingTransformer(ast.NodeTransformer):
    """Make every assignment report ``(name, value, line, at_top_level, names_read)`` to
    the binder.

    ``NAME = expr`` becomes ``NAME = __tracegraph_bind__("NAME", expr, line, top, reads)``;
    other forms (``a, b = ...``, ``a = b = ...``, ``y += ...``) are followed by
    ``a = __tracegraph_bind__("a", a, line, top)`` for each name bound.  Line
    numbers and columns are kept, so tracebacks point at the user's code.

    Example:
        >>> print(ast.unparse(NamingTransformer().visit(ast.parse("G = A + B\\ny += G"))))
        G = __tracegraph_bind__('G', A + B, 1, True, ('A', 'B'))
        y += G
        y = __tracegraph_bind__('y', y, 2, True, ('G', 'y'))
    """

    def __init__(self, filename: str = "") -> None:
        self.depth = 0
        self.source = _text_of(filename)

    def _bind_call(self, name: str, value: ast.expr, lineno: int,
                   reads: tuple[str, ...] = ()) -> ast.Call:
        call = ast.Call(
            func=ast.Name(BINDER, ast.Load()),
            args=[ast.Constant(name), value, ast.Constant(lineno), ast.Constant(self.depth == 0),
                  ast.Constant(reads)],
            keywords=[])
        return ast.copy_location(call, value)

    def _rebind(self, names: list[str], statement: ast.stmt,
                reads: tuple[str, ...]) -> list[ast.stmt]:
        rebinds = []
        for name in names:
            load = ast.copy_location(ast.Name(name, ast.Load()), statement)
            assign = ast.Assign(targets=[ast.Name(name, ast.Store())],
                                value=self._bind_call(name, load, statement.lineno, reads))
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
        reads = names_read(node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if self.depth == 0 and is_claim_name(name):
                node.value = self._claim_call(name, node.value, node.lineno,
                                              written_numbers(node.value, self.source),
                                              accumulates=name in reads)
            node.value = self._bind_call(name, node.value, node.lineno, reads)
            return node
        names = [n for target in node.targets for n in _assigned_names(target)]
        return [node, *self._rebind(list(dict.fromkeys(names)), node, reads)]

    def _claim_call(self, name: str, value: ast.expr, lineno: int,
                    written: tuple[str, ...] | None, accumulates: bool) -> ast.Call:
        """``__tracegraph_bind__.claim("dS_dG", lambda: <value>, line, ...)``: the binder
        computes a claim on the plain values its names hold (a claim is never traced)."""
        no_arguments = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                     kw_defaults=[], kwarg=None, defaults=[])
        thunk = ast.copy_location(ast.Lambda(args=no_arguments, body=value), value)
        call = ast.Call(ast.Attribute(ast.Name(BINDER, ast.Load()), "claim", ast.Load()),
                        [ast.Constant(name), thunk, ast.Constant(lineno),
                         ast.Constant(written), ast.Constant(accumulates)], [])
        return ast.copy_location(call, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            name = node.target.id
            reads = names_read(node.value)
            if self.depth == 0 and is_claim_name(name):
                node.value = self._claim_call(name, node.value, node.lineno,
                                              written_numbers(node.value, self.source),
                                              accumulates=name in reads)
            node.value = self._bind_call(name, node.value, node.lineno, reads)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        if not isinstance(node.target, ast.Name):
            return node
        name = node.target.id
        reads = tuple(sorted({name, *names_read(node.value)}))
        if self.depth == 0 and is_claim_name(name):
            # A hand-written gradient summed term by term (dloss_dw += ...) is a claim too:
            # computed on plain values like any claim, and in place as Python does it.
            step = ast.Call(ast.Attribute(ast.Name(BINDER, ast.Load()), "augmented", ast.Load()),
                            [ast.Constant(AUGMENTED[type(node.op)]),
                             ast.Name(name, ast.Load()), node.value], [])
            claim = self._claim_call(name, ast.copy_location(step, node), node.lineno, None,
                                     accumulates=True)
            assign = ast.Assign(targets=[ast.Name(name, ast.Store())],
                                value=self._bind_call(name, claim, node.lineno, reads))
            return ast.copy_location(assign, node)
        return [node, *self._rebind([name], node, reads)]

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Any:
        self.generic_visit(node)
        node.value = self._bind_call(node.target.id, node.value, node.lineno,
                                     names_read(node.value))
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                and function.attr in ARRAY_MAKERS:
            packed = ast.Attribute(ast.Name(BINDER, ast.Load()), "packed", ast.Load())
            return ast.copy_location(ast.Call(packed, [node], []), node)
        return node


ARRAY_MAKERS = frozenset({"array", "asarray", "asanyarray"})
"""``np.array(...)`` and its kin, whose object array of traced numbers the binder packs
into one traced array wherever the call is (``np.cos(np.array([a, b]))``)."""


AUGMENTED = {ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv",
             ast.FloorDiv: "ifloordiv", ast.Mod: "imod", ast.Pow: "ipow",
             ast.MatMult: "imatmul", ast.LShift: "ilshift", ast.RShift: "irshift",
             ast.BitAnd: "iand", ast.BitOr: "ior", ast.BitXor: "ixor"}
"""The :mod:`operator` function of each augmented assignment (``+=`` is ``iadd``)."""


def _text_of(filename: str) -> str:
    """The file's text as it is now (linecache may hold an older version of the path)."""
    try:
        data = Path(filename).read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""


def written_numbers(expression: ast.expr, source: str) -> tuple[str, ...] | None:
    """The numbers of a claim written as numbers (``0.2500``, ``-0.8511``, ``[0.48, 0.78]``,
    ``np.array([...])``), as the source spells them; ``None`` for a claim computed by an
    expression (``2 * x + 2``), whose digits say nothing about how it was rounded.

    Example:
        >>> text = "d = np.array([0.2500, -1.5e-3])"
        >>> written_numbers(ast.parse(text).body[0].value, text)
        ('0.2500', '1.5e-3')
        >>> text = "d = 2 * x + 2"
        >>> written_numbers(ast.parse(text).body[0].value, text) is None
        True
    """
    found: list[str] = []

    def walk(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                return False
            try:
                text = ast.get_source_segment(source, node)
            except (IndexError, ValueError):  # positions not in this text
                text = None
            found.append(text or repr(node.value))
            return True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return walk(node.operand)
        if isinstance(node, (ast.List, ast.Tuple)):
            return all(walk(item) for item in node.elts)
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and (
                isinstance(node.func, ast.Attribute) and node.func.attr in ("array", "asarray")
                or isinstance(node.func, ast.Name) and node.func.id in ("array", "asarray")):
            return walk(node.args[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "packed" and isinstance(node.func.value, ast.Name) and \
                node.func.value.id == BINDER:
            return walk(node.args[0])  # NamingTransformer's wrapping of np.array(...)
        return False

    return tuple(found) if walk(expression) else None


def names_read(expression: ast.expr) -> tuple[str, ...]:
    """The names an expression reads (``w - 0.1 * dLoss_dw`` reads ``dLoss_dw`` and ``w``).

    Example:
        >>> names_read(ast.parse("w - 0.1 * dLoss_dw", mode="eval").body)
        ('dLoss_dw', 'w')
    """
    return tuple(sorted({node.id for node in ast.walk(expression)
                         if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                         and node.id != BINDER}))
