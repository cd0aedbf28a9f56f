"""The extension API: declare your own primitive with its derivative rule.

A registered primitive is a first-class citizen: it is one node in the
graph, its formula is drawn on its edges, ``tracegraph rules`` lists it,
and the finite-difference checks (``tracegraph.testing``, the project's
registry-wide test) verify it like a built-in.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> @tg.primitive(grads={"x": (lambda g, out, x: g * 3 * x ** 2, "3·{x:p}²")},
    ...               display="cube({x})", name="doc_cube2")
    ... def cube(x):
    ...     return x ** 3
    >>> t = tg.trace(lambda x: cube(x), x=2.0)
    >>> t.value, t.grads["x"], t.graph.edges["x", "output", 0]["formula"]
    (8.0, 12.0, '3·x²')
    >>> tg.unregister("doc_cube2")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .core import REGISTRY, FUNCTION_RULES, UFUNC_RULES, Primitive, apply
from .rules._declare import GradSpec, defprimitive


def primitive(
    fn: Callable[..., Any] | None = None,
    *,
    grads: Mapping[str, GradSpec],
    display: str | Callable[..., str] | None = None,
    name: str | None = None,
    numpy: tuple = (),
    scalar_impl: Callable[..., Any] | None = None,
    kink: Callable[..., float] | None = None,
    domain: Mapping[str, tuple[float, float]] | None = None,
    sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None,
    replace: bool = False,
) -> Any:
    """Decorator: make ``fn`` (written with numpy) a traced primitive with its rule.

    Args:
        grads: for each positional argument of ``fn``, in order,
            ``(vjp, formula)`` or ``None`` (no gradient).  ``vjp(g, out, *args,
            **params)`` returns upstream ``g`` times ∂out/∂arg, i.e. the
            gradient contribution for that argument; ``formula`` is the local
            derivative as text with ``{argname}`` / ``{out}`` placeholders
            (``{x:p}`` adds parentheses around compound names).
        display: how the node reads, e.g. ``"cube({x})"`` (default ``name(args)``).
        name: registry name (default ``fn.__name__``).
        numpy: numpy functions that should dispatch to this primitive when
            called on traced values (``np.cbrt``).
        scalar_impl: optional fast version for Python floats.
        kink: ``kink(*args) -> distance`` to the nearest non-differentiable
            point, so numeric checks skip such points.
        domain: ``{argname: (low, high)}`` of valid values for numeric checks.
        sample: ``sample(rng) -> (args, params)`` test inputs for arguments
            with structure (matching shapes, index arrays).
        replace: allow replacing an existing primitive of the same name.

    Keyword arguments of ``fn`` become params: passed to ``fn`` and to the
    VJPs, but not differentiated.  See the module example and docs/extending.md.
    """
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        prim_name = name or func.__name__
        argnames = _positional_names(func)
        if list(grads) != argnames[: len(grads)] or len(grads) != len(argnames):
            raise ValueError(
                f"primitive {prim_name!r}: grads= must list every positional argument of "
                f"{func.__name__}{inspect.signature(func)} in order, i.e. keys {argnames}; "
                f"got {list(grads)}"
            )
        prim = defprimitive(
            prim_name, func, grads=grads,
            display=display or f"{prim_name}({', '.join('{' + a + '}' for a in argnames)})",
            numpy=tuple(numpy), scalar_impl=scalar_impl, kink=kink, domain=domain,
            sample=sample, category="user", replace=replace,
            doc=(func.__doc__ or "").strip().split("\n")[0],
        )

        @functools.wraps(func)
        def traced(*args: Any, **params: Any) -> Any:
            return apply(prim, *args, **params)

        traced.primitive = prim  # type: ignore[attr-defined]
        return traced

    if fn is not None:
        return decorate(fn)
    return decorate


def _positional_names(func: Callable[..., Any]) -> list[str]:
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def unregister(name: str) -> None:
    """Remove a user primitive (and its numpy routes) from the registry.

    Example:
        >>> import tracegraph as tg
        >>> "no_such_rule" in [p.name for p in tg.primitives()]
        False
    """
    prim = REGISTRY.pop(name)
    for ufunc, routed in list(UFUNC_RULES.items()):
        if routed is prim:
            del UFUNC_RULES[ufunc]
    for func, handler in list(FUNCTION_RULES.items()):
        if getattr(handler, "primitive", None) is prim:
            del FUNCTION_RULES[func]


def primitives() -> tuple[Primitive, ...]:
    """Every registered primitive, built-ins first, in declaration order.

    Example:
        >>> import tracegraph as tg
        >>> [p.name for p in tg.primitives()][:3]
        ['add', 'subtract', 'multiply']
    """
    return tuple(REGISTRY.values())
