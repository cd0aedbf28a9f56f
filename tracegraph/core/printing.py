"""Conversions that only make text: ``print(float(loss))`` is not a leak.

``float(x)`` of a traced number is refused because the plain number it returns could
flow into later arithmetic as a constant and silently drop gradients.  When the call
sits inside a ``print(...)`` statement, through nothing that could keep the number
(f-strings, arithmetic, comprehensions, Python's ``str``/``round``/``len``/``sum`` ...,
``math``/``numpy`` functions, ``json.dumps``, methods such as ``.item()`` and
``.format``), it can only reach the output stream, so it is given as Python would give
it.  Anything else (a function of the file, a walrus, ``list.append``) keeps the
refusal: the check never guesses, it reads the statement's syntax tree.

Example:
    >>> import sys
    >>> class Probe:
    ...     def __float__(self):
    ...         print(only_printed(sys._getframe(1))); return 1.0
    >>> print('p', float(Probe()))
    True
    p 1.0
"""

from __future__ import annotations

import ast
import builtins
import functools
import linecache
import types
from collections.abc import Iterator
from typing import Any

from .leaks import formatting_with_percent

# Calls whose result is text (or a number that is only formatted next), when they sit
# inside print(...): a value passed through them can go nowhere but the output.
_TEXT_FUNCTIONS = frozenset({
    "str", "repr", "format", "float", "int", "round", "abs", "len", "min", "max", "sum",
    "bool", "list", "tuple", "sorted", "range", "enumerate", "zip", "isinstance", "type"})
# Methods that keep nothing (a plain number's, an array's, a string's), and modules of
# pure functions: math.sqrt(float(loss)) inside print(...) only makes a number to show.
_TEXT_METHODS = frozenset({
    "item", "tolist", "format", "join", "astype", "round", "mean", "sum", "max", "min",
    "std", "var", "ravel", "flatten", "reshape", "copy"})
_PURE_MODULES = frozenset({"math", "cmath", "numpy"})
_TEXT_CONTAINERS = (ast.JoinedStr, ast.FormattedValue, ast.Tuple, ast.List, ast.Dict,
                    ast.Set, ast.keyword, ast.Starred, ast.ListComp, ast.SetComp,
                    ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.IfExp,
                    ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Subscript,
                    ast.Slice)


def makes_only_text(frame: Any) -> bool:
    """True when the conversion ``frame`` is executing only makes text: ``"%.3f" % y``,
    or a call inside a ``print(...)`` statement (:func:`only_printed`).

    Example:
        >>> import sys
        >>> makes_only_text(sys._getframe())
        False
    """
    return formatting_with_percent(frame) or only_printed(frame)


def only_printed(frame: Any) -> bool:
    """True when ``frame`` is executing a call (``float(x)``, ``int(x)``) whose result
    only becomes text for a ``print(...)`` statement.

    Example:
        >>> import sys
        >>> only_printed(sys._getframe())   # this doctest line is no print statement
        False
    """
    call = _executing_call(frame)
    if call is None:
        return False
    node, tree = call
    for parent in tree.outwards(node):
        if isinstance(parent, ast.Call) and node is not parent.func:
            if _is_builtin_print(parent, frame):
                return isinstance(tree.parents.get(parent), ast.Expr)  # print(...) alone
            if not _makes_text(parent, frame):
                return False
        elif not isinstance(parent, _TEXT_CONTAINERS):
            return False
        node = parent
    return False


class _Tree:
    """A file's syntax tree with each node's parent and its calls by source position."""

    def __init__(self, tree: ast.AST) -> None:
        self.parents: dict[ast.AST, ast.AST] = {}
        self.calls: dict[tuple[int, int, int, int], ast.Call] = {}
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
            if isinstance(parent, ast.Call):
                self.calls[(parent.lineno, parent.end_lineno, parent.col_offset,
                            parent.end_col_offset)] = parent

    def outwards(self, node: ast.AST) -> Iterator[ast.AST]:
        """The node's parent, its parent's parent, ... up to the module."""
        parent = self.parents.get(node)
        while parent is not None:
            yield parent
            parent = self.parents.get(parent)


def _executing_call(frame: Any) -> tuple[ast.Call, _Tree] | None:
    code = frame.f_code
    try:
        position = _positions(code)[frame.f_lasti // 2]
    except (AttributeError, IndexError, ValueError):
        return None
    tree = _tree(code.co_filename)
    call = tree.calls.get(position) if tree is not None else None
    return (call, tree) if call is not None else None


@functools.lru_cache(maxsize=256)
def _positions(code: types.CodeType) -> tuple:
    return tuple(code.co_positions())  # a print in a loop asks again and again


# filename -> (linecache's list of its lines, the tree): linecache gives the same list
# until the file is read again, so a changed file is parsed afresh
_trees: dict[str, tuple[list[str], _Tree | None]] = {}


def _tree(filename: str) -> _Tree | None:
    lines = linecache.getlines(filename)
    if not lines:
        return None
    kept = _trees.get(filename)
    if kept is None or kept[0] is not lines:
        try:
            tree = _Tree(ast.parse("".join(lines)))
        except (SyntaxError, ValueError):
            tree = None
        kept = _trees[filename] = (lines, tree)
    return kept[1]


def _is_builtin_print(call: ast.Call, frame: Any) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "print" \
        and _is_builtin("print", frame)


def _makes_text(call: ast.Call, frame: Any) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in _TEXT_FUNCTIONS and _is_builtin(func.id, frame)
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        bound = _bound(owner.id, frame)
        if isinstance(bound, types.ModuleType):
            return bound.__name__.partition(".")[0] in _PURE_MODULES or (
                bound.__name__ == "json" and func.attr == "dumps")
    return func.attr in _TEXT_METHODS  # "{:.3f}".format(...), loss.item(), w.tolist()


def _bound(name: str, frame: Any) -> Any:
    """What ``name`` means in ``frame`` when the file binds it; ``_MISSING`` otherwise."""
    return frame.f_locals.get(name, frame.f_globals.get(name, _MISSING))


def _is_builtin(name: str, frame: Any) -> bool:
    bound = _bound(name, frame)
    return bound is _MISSING or bound is getattr(builtins, name, None)


_MISSING = object()
