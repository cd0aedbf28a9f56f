"""Python's ``max``, ``min``, ``sum`` and ``math`` for expression files: traced as numpy's.

Python's ``max(a, b)`` compares and returns one of its arguments, so a traced
``m = max(a, b)`` with ``a == b`` would send the whole gradient to ``a`` (and to a
plain ``0.0`` in ``max(0.0, x)`` at ``x = 0``, none at all), against the convention
every other way of writing a maximum follows (docs/non-differentiable.md).  In an
expression file, ``max`` and ``min`` of traced numbers are recorded as one ``max``
(or ``min``) node over their arguments instead, with the same value; every other
call (keys, strings, arrays, no traced value, a NaN) is Python's own.

``import math`` gives the file a stand-in for the module whose functions with a rule
(``math.exp``, ``math.sin``, ``math.log`` ... the rules compute Python floats with those
very functions, so the values are Python's) record a node when given a traced number;
everything else is the real module's.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda a, b: 3 * traced_max(a, b), a=2.0, b=2.0)
    >>> t.value, t.grads
    (6.0, {'a': 1.5, 'b': 1.5})
"""

from __future__ import annotations

import builtins
import math
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import REGISTRY, Var, apply_with_value, guarded, plain_value, shape_of

_NOTHING = object()


def _extremum(builtin: Callable[..., Any], reduce: Callable[..., Any]) -> Callable[..., Any]:
    def traced(items: Any) -> Any:
        # Python returns the winning object itself: a float32 winner stays a float32 (and
        # the arithmetic after it float32), where numpy's reduction of the stack would be
        # a float64; the node is numpy's, its number the winner's.
        winner = builtin(plain_value(item) for item in items)
        if isinstance(winner, (int, np.integer)):
            winner = float(winner)
        return apply_with_value(REGISTRY[reduce.__name__], winner, np.stack(items))

    def extremum(*args: Any, key: Any = _NOTHING, default: Any = _NOTHING) -> Any:
        options = {k: v for k, v in (("key", key), ("default", default)) if v is not _NOTHING}
        if len(args) == 1 and key is _NOTHING:
            try:
                items = list(args[0])  # an iterable is read once, so keep what it gave
            except TypeError:
                return builtin(*args, **options)
            if _traced_numbers(items):
                return traced(items)
            return builtin(items, **options)
        if len(args) > 1 and not options and _traced_numbers(args):
            return traced(args)
        return builtin(*args, **options)
    extremum.__name__ = builtin.__name__
    extremum.__qualname__ = builtin.__qualname__
    extremum.__doc__ = builtin.__doc__
    return extremum


def _traced_numbers(items: Any) -> bool:
    """True for two or more numbers, at least one traced and one not a count (ints and
    int inputs stay Python's: ``range(max(n, 1))``), none NaN or bool."""
    if len(items) < 2:
        return False
    traced = fractional = False
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            return False
        if type(item) is Var:
            value = plain_value(item)  # a number (the value of an enclosing trace's node)
            if shape_of(value) != ():
                return False
            traced = True
            counts = item.index in item.tape.integer_leaves
        elif isinstance(item, (int, np.integer)):
            continue
        elif isinstance(item, (float, np.floating)):
            value, counts = item, False
        else:
            return False
        if math.isnan(value):
            return False  # Python's comparisons skip a NaN, numpy's propagate it
        fractional = fractional or not counts
    return traced and fractional


traced_max = _extremum(builtins.max, np.max)
traced_min = _extremum(builtins.min, np.min)


def traced_sum(iterable: Any, /, start: Any = 0) -> Any:
    """Python's ``sum``, with Python's number when traced numbers are summed.

    Since Python 3.12, ``sum`` of floats is compensated (``sum([1e16, 1.0, -1e16])`` is
    1.0), which adding traced numbers one by one is not (0.0).  The terms are added as
    traced values, and the last addition takes the number Python's ``sum`` gives for the
    values the traced ones stand for: the same derivative (1 for every term), Python's value.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda a: traced_sum([a, 1.0, -a]), a=1e16)
        >>> t.value == builtins.sum([1e16, 1.0, -1e16]), t.grads["a"]
        (True, 0.0)
    """
    items = list(iterable)  # an iterable is read once
    if not any(type(item) is Var for item in (start, *items)):
        return builtins.sum(items, start)
    partial, last = builtins.sum(items[:-1], start), items[-1]
    plain = plain_value(partial), plain_value(last)
    if not all(type(v) in (float, int) for v in plain):
        return partial + last
    python = builtins.sum([plain_value(item) for item in items], plain_value(start))
    if type(python) is not float or python == plain[0] + plain[1] or math.isnan(python):
        return partial + last
    return apply_with_value(REGISTRY["add"], python, partial, last)


class TracedMath(types.ModuleType):
    """``math`` as an expression file sees it: a function that has a rule records it on a
    traced number (after the real function has checked the domain, so ``math.log(-1.0)``
    raises as in Python); any other name is the real module's.

    Example:
        >>> import tracegraph as tg
        >>> math_ = TracedMath()
        >>> t = tg.trace(lambda x: math_.exp(x) * math_.pi, x=0.0)
        >>> t.value == math.pi, t.grads["x"] == math.pi
        (True, True)
    """

    def __init__(self) -> None:
        super().__init__("math", math.__doc__)
        for primitive in REGISTRY.values():
            real = primitive.scalar_impl
            if real is not None and len(primitive.argnames) == 1 and \
                    getattr(math, getattr(real, "__name__", ""), None) is real:
                setattr(self, real.__name__, _traced_math(real, primitive))
        for name in ("floor", "ceil", "trunc"):  # an int in Python: a step, slope 0
            setattr(self, name, _as_python_int(getattr(math, name)))
        for name, rule in _SAME_AS_NUMPY.items():
            setattr(self, name, _traced_math(getattr(math, name), REGISTRY[rule]))
        for name in ("isfinite", "isinf", "isnan", "isclose"):  # a bool: nothing to drop
            setattr(self, name, _on_values(getattr(math, name)))
        self.__all__ = [name for name in dir(math) if not name.startswith("_")]  # import *

    def __getattr__(self, name: str) -> Any:
        return getattr(math, name)

    def __dir__(self) -> list[str]:
        return dir(math)


# math functions whose rule is not declared with the math version as its scalar_impl
_SAME_AS_NUMPY = {"pow": "power", "atan2": "arctan2", "hypot": "hypot", "fmod": "fmod",
                  "fabs": "absolute"}


def _traced_math(real: Callable[..., float], primitive: Any) -> Callable[..., Any]:
    arity = len(primitive.argnames)

    def function(x: Any, *rest: Any) -> Any:
        if real is math.log and rest and (type(x) is Var or type(rest[0]) is Var):
            real(plain_value(x), plain_value(rest[0]))  # Python's own errors first
            return function(x) / function(rest[0])  # as CPython computes it: log(x) / log(b)
        arguments = (x, *rest)
        if len(arguments) == arity and any(type(a) is Var for a in arguments) and \
                all(shape_of(plain_value(a)) == () for a in arguments):
            value = real(*map(plain_value, arguments))  # Python's own errors first
            arguments = tuple(float(a) if type(a) is int else a for a in arguments)
            return apply_with_value(primitive, value, *arguments)  # math's number, to the bit
        return real(*arguments)
    function.__name__ = function.__qualname__ = real.__name__
    function.__doc__ = real.__doc__
    return function


def _as_python_int(real: Callable[[Any], int]) -> Callable[[Any], int]:
    """``math.floor(x)`` of a traced number: Python's int (a list index, a count, ``:d``),
    which is right for the gradient too (a step has slope 0); a guard tells a replay when
    the int would change."""
    def function(x: Any) -> Any:
        if type(x) is not Var or shape_of(plain_value(x)) != ():
            return real(x)
        return guarded(real, (x,), {})
    function.__name__ = function.__qualname__ = real.__name__
    function.__doc__ = real.__doc__
    return function


def _on_values(real: Callable[..., bool]) -> Callable[..., bool]:
    def predicate(*arguments: Any, **keywords: Any) -> bool:
        return real(*map(plain_value, arguments),
                    **{key: plain_value(value) for key, value in keywords.items()})
    predicate.__name__ = predicate.__qualname__ = real.__name__
    predicate.__doc__ = real.__doc__
    return predicate


def _traced_import(users_module: Callable[[Any], bool]) -> Callable[..., Any]:
    def traced_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                      level: int = 0) -> Any:
        module = builtins.__import__(name, globals, locals, fromlist, level)
        if name == "math" and level == 0:
            return _MATH
        if level == 0 and name.partition(".")[0] == "scipy":
            return traced_scipy(name, module, fromlist)
        for imported in list(sys.modules.values()):
            if users_module(imported) and not getattr(imported, _MATH_TRACED, False):
                trace_math_in(imported)
        return module
    return traced_import


_MATH = TracedMath()
_MATH_TRACED = "__tracegraph_math__"

_SCIPY_MIRRORS = ("special", "stats", "signal", "linalg")


class MirroredModule(types.ModuleType):
    """A scipy module as an expression file sees it: the names :mod:`tracegraph.scipy`
    mirrors (``stats.norm``, ``special.logsumexp``, ``linalg.sqrtm`` ...), which trace,
    and the real module's for everything else (and for ``import *``).

    Example:
        >>> import scipy.stats, tracegraph.scipy.stats as mirror
        >>> stats = MirroredModule(scipy.stats, mirror)
        >>> stats.norm is mirror.norm, stats.pearsonr is scipy.stats.pearsonr
        (True, True)
    """

    def __init__(self, real: types.ModuleType, mirror: types.ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._real, self._mirror = real, mirror
        self.__all__ = list(getattr(real, "__all__", [n for n in dir(real) if n[:1] != "_"]))

    def __getattr__(self, name: str) -> Any:
        if name in self._mirror.__all__:
            return getattr(self._mirror, name)
        if self._real.__name__ == "scipy" and name in _SCIPY_MIRRORS:
            return _mirrored(f"scipy.{name}")
        return getattr(self._real, name)

    def __dir__(self) -> list[str]:
        return dir(self._real)


def _mirrored(name: str) -> types.ModuleType:
    import importlib

    real = importlib.import_module(name)
    sub = name.removeprefix("scipy").lstrip(".")
    mirror = importlib.import_module(f"tracegraph.scipy{'.' + sub if sub else ''}")
    if sub:
        mirror_names = mirror
    else:
        mirror_names = types.SimpleNamespace(__all__=[])  # scipy itself: its submodules
    return MirroredModule(real, mirror_names)


def traced_scipy(name: str, module: types.ModuleType, fromlist: Any) -> types.ModuleType:
    """What the file's ``import scipy...`` gives it: the package or module it asked for,
    with :mod:`tracegraph.scipy`'s mirrors in place of scipy.special, .stats, .signal and
    .linalg, so ``from scipy.stats import norm`` or ``import scipy.linalg as la`` trace as
    written.  Other scipy modules are the real ones.

    Example:
        >>> import scipy.stats
        >>> traced_scipy("scipy.stats", scipy.stats, ("norm",)).norm
        <tracegraph.scipy.stats.norm>
    """
    asked = name if fromlist else "scipy"  # `import scipy.stats` binds the name scipy
    if asked != "scipy" and asked.removeprefix("scipy.") not in _SCIPY_MIRRORS:
        return module
    return _mirrored(asked)


def trace_math_in(module: types.ModuleType) -> None:
    """The file's own helper modules see :class:`TracedMath` too: ``math`` and the functions
    they took from it (``from math import exp``) are swapped for the traced ones, so
    ``helper.sig(z)`` computing ``math.exp(-z)`` traces as it would in the file.

    Example:
        >>> helper = types.ModuleType("helper"); helper.math = math; helper.exp = math.exp
        >>> trace_math_in(helper)
        >>> helper.math is _MATH, helper.exp is _MATH.exp
        (True, True)
    """
    names = vars(module)
    for key, value in list(names.items()):
        if value is math:
            names[key] = _MATH
        elif getattr(value, "__module__", None) == "math" and callable(value):
            traced = getattr(_MATH, getattr(value, "__name__", ""), value)
            if getattr(math, getattr(value, "__name__", ""), None) is value:
                names[key] = traced
    names[_MATH_TRACED] = True


def file_builtins(users_module: Callable[[Any], bool] = lambda module: False
                  ) -> dict[str, Any]:
    """The builtins an expression file runs with: Python's, with :func:`traced_max` and
    :func:`traced_min` for ``max`` and ``min``, and an ``import`` that gives the file
    :class:`TracedMath` for ``math``, and the modules ``users_module`` says are the
    user's own too (:func:`trace_math_in`).

    Example:
        >>> file_builtins()["max"](1, 3, 2), file_builtins()["len"] is len
        (3, True)
    """
    names = dict(vars(builtins))
    names["max"], names["min"], names["sum"] = traced_max, traced_min, traced_sum
    names["__import__"] = _traced_import(users_module)
    return names
