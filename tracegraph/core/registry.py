"""The registry: every primitive by name, and which numpy callables route to which.

Filled once at import by the derivative table (:mod:`tracegraph.rules`), then
by whatever users declare with :func:`tracegraph.defprimitive`.  Nothing
else here is global state.

Example:
    >>> import numpy as np
    >>> REGISTRY["tanh"].name, UFUNC_ROUTES[np.tanh].name
    ('tanh', 'tanh')
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .var import Primitive

REGISTRY: dict[str, Primitive] = {}
"""Every defined primitive by name, built-ins first, in declaration order."""

UFUNC_ROUTES: dict[Any, Primitive] = {}
"""numpy ufunc -> the primitive a plain call on traced values records."""

FUNCTION_ROUTES: dict[Callable[..., Any], Callable[..., Any]] = {}
"""numpy function (``np.sum`` ...) -> handler with numpy's signature that records."""

ROUTE_OWNERS: dict[Any, Primitive] = {}
"""numpy callable -> the primitive whose declaration routes it (for listings and removal)."""

PASS_THROUGH: set[Any] = set()
"""numpy callables whose result carries no gradient (``np.argmax``, ``np.shape``,
comparisons): they run on plain values, and the trace records a guard so a
replay notices when their result would change."""

STATIC: set[Any] = set()
"""Gradient-free numpy callables that only read shapes (``np.shape``): no guard needed."""

LOADERS: list[Callable[[Any], bool]] = []
"""Deferred rule sets: ``loader(func)`` declares the rules for an unrouted callable
(scipy.special's ufuncs, the first time one meets a traced value) and says whether it
declared anything new."""

REPLACEMENTS: dict[str, str] = {}
"""Library function, as the user writes it -> the tracegraph function that traces it
(``scipy.stats.norm.logpdf`` -> ``tracegraph.scipy.stats.norm.logpdf``), for messages."""

_lock = threading.Lock()


def load_rules_for(func: Any) -> bool:
    """Run the deferred loaders for an unrouted ``func``; True if one declared new rules.

    Example:
        >>> load_rules_for(len)
        False
    """
    return any([loader(func) for loader in list(LOADERS)])


def register(primitive: Primitive, routes: dict[Any, Callable[..., Any] | None],
             *, replace: bool = False) -> Primitive:
    """Add a defined primitive and its numpy routes to the registry.

    ``routes`` maps a ufunc or numpy function to ``None`` (positional
    arguments become the primitive's inputs) or to an adapter
    ``adapter(primitive, *args, **kwargs)`` written with numpy's signature.
    A callable another rule already routes is taken over only with ``replace``
    (and given back when this rule is unregistered).

    Example:
        >>> "sigmoid" in REGISTRY
        True
    """
    with _lock:
        existing = REGISTRY.get(primitive.name)
        if existing is not None and existing is not primitive and not replace:
            raise ValueError(
                f"a primitive named {primitive.name!r} is already registered; "
                "choose another name or pass replace=True")
        routes = _free_routes(primitive, existing, routes, replace)
        if existing is not None and existing is not primitive:
            _drop_routes(existing)
        REGISTRY[primitive.name] = primitive
        for func, adapter in routes.items():
            _route(func, primitive, adapter)
    return primitive


def _free_routes(primitive: Primitive, existing: Primitive | None,
                 routes: dict[Any, Callable[..., Any] | None], replace: bool
                 ) -> dict[Any, Callable[..., Any] | None]:
    """``routes`` without the callables a user's rule already routes, when ``primitive``
    is a built-in loaded later (scipy.special's, on first use): the user's route stays.
    Any other callable routed to a different rule is refused unless ``replace``: taking it
    over silently would change every gradient through it (``numpy=(np.exp,)``)."""
    free = {}
    for func, adapter in routes.items():
        owner = ROUTE_OWNERS.get(func)
        if owner is None or owner is primitive or owner is existing or replace:
            free[func] = adapter
        elif primitive.category != "user" and owner.category == "user":
            continue
        else:
            raise ValueError(
                f"primitive {primitive.name!r}: {numpy_name(func)} already records the rule "
                f"{owner.name!r}; pass replace=True to route it to {primitive.name!r} "
                f"instead (tg.unregister({primitive.name!r}) gives it back)")
    return free


def _route(func: Any, primitive: Primitive, adapter: Callable[..., Any] | None) -> None:
    if func in ROUTE_OWNERS and ROUTE_OWNERS[func] is not primitive:
        _DISPLACED.setdefault(func, []).append(
            (ROUTE_OWNERS[func], UFUNC_ROUTES.get(func), FUNCTION_ROUTES.get(func)))
    ROUTE_OWNERS[func] = primitive
    PASS_THROUGH.discard(func)
    if isinstance(func, np.ufunc) and adapter is None:
        UFUNC_ROUTES[func] = primitive
        FUNCTION_ROUTES.pop(func, None)
        if func.nin == 2 and func.signature is None and (func, "outer") not in ROUTE_OWNERS:
            # np.multiply.outer(a, b): the same primitive on a reshaped against b
            ROUTE_OWNERS[(func, "outer")] = primitive
            FUNCTION_ROUTES[(func, "outer")] = functools.partial(_ufunc_outer, primitive)
        return
    UFUNC_ROUTES.pop(func, None)
    # A partial (no Python frame of its own): these calls are on the hot path of array code.
    FUNCTION_ROUTES[func] = primitive if adapter is None else functools.partial(adapter, primitive)


_DISPLACED: dict[Any, list[tuple[Primitive, Any, Any]]] = {}
"""numpy callable -> the routes ``replace=True`` took over, restored on unregister."""


def _ufunc_outer(primitive: Primitive, a: Any, b: Any, **kwargs: Any) -> Any:
    """``ufunc.outer(a, b)``: ``ufunc(a[..., None, ...], b)``, one axis per axis of b."""
    if kwargs:
        raise TypeError(f"{primitive.name}.outer on traced values takes no keyword "
                        f"arguments (got {', '.join(kwargs)})")
    return primitive(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)


def _drop_routes(primitive: Primitive) -> None:
    for func, owner in list(ROUTE_OWNERS.items()):
        if owner is primitive:
            del ROUTE_OWNERS[func]
            UFUNC_ROUTES.pop(func, None)
            FUNCTION_ROUTES.pop(func, None)
            _restore_route(func)


def _restore_route(func: Any) -> None:
    """Give ``func`` back to the rule it was taken from, if that rule is still registered."""
    displaced = _DISPLACED.get(func, [])
    while displaced:
        owner, ufunc_route, function_route = displaced.pop()
        if REGISTRY.get(owner.name) is owner:
            ROUTE_OWNERS[func] = owner
            if ufunc_route is not None:
                UFUNC_ROUTES[func] = ufunc_route
            if function_route is not None:
                FUNCTION_ROUTES[func] = function_route
            break
    if not displaced:
        _DISPLACED.pop(func, None)


def unregister(name: str) -> Primitive:
    """Remove a primitive and its numpy routes; returns it.

    Example:
        >>> "no_such_rule" in REGISTRY
        False
    """
    with _lock:
        primitive = REGISTRY.pop(name)
        _drop_routes(primitive)
    return primitive


def pass_through(*funcs: Any, static: bool = False) -> None:
    """Declare numpy callables whose results carry no gradient (see :data:`PASS_THROUGH`);
    ``static`` ones only read shapes, so their results need no guard.

    Example:
        >>> import numpy as np
        >>> np.argmax in PASS_THROUGH, np.shape in STATIC
        (True, True)
    """
    for func in funcs:
        if not callable(func):
            raise TypeError(f"pass_through takes numpy callables, got {func!r}")
        if func in ROUTE_OWNERS:
            # the route would win and the declaration be silently ignored
            raise ValueError(
                f"{numpy_name(func)} records the rule {ROUTE_OWNERS[func].name!r}, so it "
                f"cannot also pass through; tg.unregister({ROUTE_OWNERS[func].name!r}) first")
    with _lock:
        PASS_THROUGH.update(funcs)
        if static:
            STATIC.update(funcs)


def numpy_name(func: Any) -> str:
    """How the user wrote a numpy/scipy callable: ``np.linalg.det``, ``scipy.special.erf``.

    Example:
        >>> import numpy as np
        >>> numpy_name(np.linalg.det), numpy_name(np.tanh), numpy_name(np.sum)
        ('np.linalg.det', 'np.tanh', 'np.sum')
    """
    name_ = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None) or ""
    if isinstance(func, np.ufunc) and not module:
        special = sys.modules.get("scipy.special")
        private = getattr(special, "_ufuncs", None) if special is not None else None
        module = ("scipy.special" if getattr(special, name_, None) is func
                  or getattr(private, name_, None) is func else "numpy")
    if module.startswith("scipy."):
        public = ".".join(part for part in module.split(".") if not part.startswith("_"))
        return f"{public}.{name_}"
    for sub in ("linalg", "fft", "random"):
        if module.startswith(f"numpy.{sub}"):
            return f"np.{sub}.{name_}"
    return f"np.{name_}" if module.startswith("numpy") or not module else f"{module}.{name_}"
