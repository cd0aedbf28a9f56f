"""The extension API: declare a primitive with its derivative rule.

This is the one way primitives are declared; the built-in derivative table
(:mod:`tracegraph.rules`) is written with it too.  A declared primitive is a
first-class citizen: one node in the graph, its formula drawn on its edges,
listed by ``tracegraph rules``, and checked by the registry-wide
finite-difference tests like a built-in.

One row::

    defprimitive(
        "tanh", np.tanh, display="tanh({x})",
        grads={"x": (lambda g, out, x: g * (1 - out * out), "1 − {out:p}²")},
        numpy=(np.tanh,), scalar_impl=math.tanh,
    )

``grads`` maps each input, in order, to ``(vjp, formula)``, to a bare ``vjp``
(its edges then read ``∂name/∂input``), or to ``None`` when the input gets no
gradient.  A VJP is called as ``vjp(g, out, *inputs,
**params)`` and returns upstream × local for that input (broadcasting is
undone by the backward pass); keyword arguments of ``impl`` are *params*,
passed to the VJPs but not differentiated.  ``numpy`` routes numpy callables
to the primitive: a tuple of callables whose positional arguments are the
inputs, or a dict ``{callable: adapter}`` where ``adapter(primitive, *args,
**kwargs)`` has numpy's own signature and records (``(np.add, "reduce")``
keys route ufunc methods).

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
import string
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .core import REGISTRY, Primitive, apply, is_traced, numpy_name
from .core import registry as _registry
from .errors import RuleDeclarationError, UnsupportedOperationError, user_location
from .formula import Formula

GradSpec = tuple[Callable[..., Any], Formula] | Callable[..., Any] | None
Routes = tuple | Mapping[Any, Callable[..., Any] | None]


def defprimitive(
    name: str | Primitive,
    impl: Callable[..., Any],
    *,
    grads: Mapping[str, GradSpec],
    display: Formula | None = None,
    numpy: Routes = (),
    scalar_impl: Callable[..., Any] | None = None,
    variadic: bool = False,
    kink: Callable[..., float] | None = None,
    domain: Mapping[str, tuple[float, float]] | None = None,
    sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None,
    doc: str = "",
    category: str = "user",
    twice: bool = True,
    replace: bool = False,
) -> Primitive:
    """Declare a primitive, register it and route numpy callables to it (see the module doc).

    Args:
        name: the registry name, or an existing undeclared :class:`Primitive`
            (the operators' own primitives are created by the core).
        impl: the implementation on plain numbers/arrays.
        grads: ``{argname: (vjp, formula) | vjp | None}`` for every input, in order
            (variadic primitives: one entry shared by all inputs, called with
            ``position=``).
        display: how the node reads, e.g. ``"{x} + {y}"`` (default ``name(args)``).
        numpy: numpy callables dispatching to this primitive (see the module doc).
        scalar_impl: the Python ``math`` module's version of this function, if any; an
            expression file's ``math.f(x)`` on a traced float records this rule with the
            value ``math`` computes (numpy's calls always run ``impl``).
        kink: ``kink(*args, **params) -> distance`` to the nearest
            non-differentiable point, so numeric checks skip such points.
        domain: ``{argname: (low, high)}`` of valid values for numeric checks.
        sample: ``sample(rng) -> (args, params)`` test inputs for rules whose
            inputs have structure (matching shapes, index arrays, params).
        twice: the VJPs use only traced operations, so they can be
            differentiated again (second derivatives); say False otherwise.
        replace: allow replacing a registered primitive of the same name.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> cube = tg.defprimitive(
        ...     "doc_cube", lambda x: x ** 3, display="{x:p}³",
        ...     grads={"x": (lambda g, out, x: g * 3 * x ** 2, "3·{x:p}²")})
        >>> float(cube(2.0)), tg.trace(lambda x: cube(x), x=2.0).grads["x"]
        (8.0, 12.0)
        >>> tg.unregister("doc_cube")
    """
    prim = name if isinstance(name, Primitive) else Primitive(name)
    label = prim.name
    if not grads:
        raise _refused(f"primitive {label!r} needs at least one input in grads=",
                       'name each input: grads={"x": (vjp, formula)}')
    grads = {argname: _with_formula(label, argname, spec, tuple(grads))
             for argname, spec in grads.items()}
    if variadic and len(grads) != 1:
        raise _refused(f"variadic primitive {label!r} takes one grads entry shared by all "
                       "inputs")
    if prim.defined and not replace:
        raise _refused(f"primitive {label!r} is already declared; pass replace=True")
    routes = dict(numpy) if isinstance(numpy, Mapping) else {func: None for func in numpy}
    argnames = tuple(grads)
    unknown = sorted(set(domain or ()) - set(argnames))
    if unknown:
        raise _refused(f"primitive {label!r}: domain= names {', '.join(map(repr, unknown))}, "
                       f"which is not an input (the inputs are {', '.join(argnames)})")
    if not variadic:
        _check_rule_text(label, impl, argnames, grads, display)
    prim.define(
        impl, argnames=argnames,
        vjps=tuple(None if spec is None else spec[0] for spec in grads.values()),
        formulas=tuple(None if spec is None else spec[1] for spec in grads.values()),
        display=display or f"{label}({', '.join('{' + a + '}' for a in argnames)})",
        scalar_impl=scalar_impl, variadic=variadic, kink=kink, domain=domain, sample=sample,
        doc=doc or (getattr(impl, "__doc__", None) or "").strip().split("\n")[0],
        category=category, twice=twice)
    return _registry.register(prim, routes, replace=replace)


def _refused(message: str, hint: str | None = None) -> RuleDeclarationError:
    """The error for a declaration that cannot work, placed at the user's declaring line."""
    return RuleDeclarationError(message, location=user_location(), hint=hint)


def _with_formula(label: str, argname: str, spec: Any, argnames: tuple[str, ...]
                  ) -> tuple[Callable[..., Any], Formula] | None:
    """A ``grads=`` entry as ``(vjp, formula)``: a bare VJP gets the formula ``∂label/∂arg``."""
    if spec is None:
        return None
    if callable(spec):
        plain = f"∂{label}/∂{argname}".replace("{", "{{").replace("}", "}}")
        return spec, plain
    if isinstance(spec, tuple) and len(spec) == 2 and callable(spec[0]):
        return spec
    raise _refused(
        f"primitive {label!r}: grads[{argname!r}] must be (vjp, formula), a vjp or None, "
        f"got {spec!r}",
        f"write grads={{{argname!r}: (lambda g, out, {', '.join(argnames)}: g * ..., "
        "\"formula text\")}; None when the input gets no gradient")


def _check_rule_text(label: str, impl: Callable[..., Any], argnames: tuple[str, ...],
                     grads: Mapping[str, GradSpec], display: Formula | None) -> None:
    """Refuse, at declaration, a VJP that cannot take ``(g, out, *inputs)`` and a template
    field that names nothing: both would otherwise fail only at the first backward pass or
    diagram, far from the rule (a TypeError from the lambda, a KeyError from str.format)."""
    params = _keyword_names(impl)
    known = set(argnames) | {"out"} | (params or set())
    templates = [("display", display)] + [
        (f"the formula of {name!r}", spec[1]) for name, spec in grads.items() if spec]
    for where, template in templates:
        if not isinstance(template, str):
            continue
        try:
            fields = {field.split(".")[0].split("[")[0]
                      for _, field, _, _ in string.Formatter().parse(template) if field}
        except ValueError as err:
            raise _refused(f"primitive {label!r}: {where} {template!r} is not a valid "
                           f"template ({err}); write a literal brace as {{{{ or }}}}") from None
        missing = sorted(fields - known) if params is not None else \
            sorted(f for f in fields if not f.isidentifier())
        if missing:
            raise _refused(
                f"primitive {label!r}: {where} {template!r} uses {{{missing[0]}}}, which is "
                f"neither an input ({', '.join(argnames)}), {{out}} nor a keyword parameter")
    for name, spec in grads.items():
        if spec is None:
            continue
        try:
            inspect.signature(spec[0]).bind_partial(*([None] * (2 + len(argnames))))
        except TypeError:
            raise _refused(
                f"primitive {label!r}: the VJP of {name!r} must take (g, out, "
                f"{', '.join(argnames)}) and the keyword parameters; it takes "
                f"{inspect.signature(spec[0])}") from None
        except ValueError:
            continue  # no signature to read (a builtin): left to the first call


def _keyword_names(impl: Callable[..., Any]) -> set[str] | None:
    """The keyword parameters of ``impl`` (its params), or None when it takes any."""
    try:
        parameters = inspect.signature(impl).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not p.VAR_POSITIONAL}


def primitive(
    fn: Callable[..., Any] | None = None,
    *,
    grads: Mapping[str, GradSpec],
    display: Formula | None = None,
    name: str | None = None,
    numpy: Routes = (),
    scalar_impl: Callable[..., Any] | None = None,
    kink: Callable[..., float] | None = None,
    domain: Mapping[str, tuple[float, float]] | None = None,
    sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None,
    twice: bool = True,
    replace: bool = False,
) -> Any:
    """Decorator form of :func:`defprimitive`: make ``fn`` (written with numpy) a primitive.

    ``grads`` lists every positional argument of ``fn`` in order; its
    keyword arguments become params.  The decorated function records the
    primitive on traced values and computes ``fn`` on plain ones; it keeps a
    ``.primitive`` attribute.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> @tg.primitive(grads={"x": (lambda g, out, x: g / (3.0 * out ** 2), "1/(3·{out:p}²)")},
        ...               name="doc_cbrt", domain={"x": (0.5, 8.0)})
        ... def cbrt(x):
        ...     return np.cbrt(x)
        >>> round(tg.trace(lambda x: cbrt(x), x=8.0).grads["x"], 6)
        0.083333
        >>> tg.unregister("doc_cbrt")
    """
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        prim_name = name or func.__name__
        argnames = _positional_names(func)
        if list(grads) != argnames:
            raise _refused(
                f"primitive {prim_name!r}: grads= must list every positional argument of "
                f"{func.__name__}{inspect.signature(func)} in order, i.e. keys {argnames}; "
                f"got {list(grads)}")
        prim = defprimitive(prim_name, func, grads=grads, display=display, numpy=numpy,
                            scalar_impl=scalar_impl, kink=kink, domain=domain, sample=sample,
                            twice=twice, replace=replace, category="user")

        @functools.wraps(func)
        def traced(*args: Any, **params: Any) -> Any:
            missing = argnames[len(args):]
            if params and missing and all(name in params for name in missing):
                # an input passed by keyword (f(a, y=b)) is still an input, not a param
                args += tuple(params.pop(name) for name in missing)
            return apply(prim, *args, **params)

        traced.primitive = prim  # type: ignore[attr-defined]
        return traced

    return decorate(fn) if fn is not None else decorate


def _positional_names(func: Callable[..., Any]) -> list[str]:
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def pass_through(*funcs: Any, static: bool = False) -> None:
    """Declare numpy callables whose result carries no gradient (``np.argmax``, ``np.shape``).

    They run on plain values; the trace remembers their results as guards,
    except for ``static`` ones that only read shapes.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> tg.trace(lambda x: x[np.argmax(x)] * 2.0, x=np.array([1.0, 3.0])).grads["x"].tolist()
        [0.0, 2.0]
    """
    _registry.pass_through(*funcs, static=static)


def reject_arguments(function: str, **given: Any) -> None:
    """For numpy adapters: refuse keyword arguments that were given a value that is not traced.

    Pass each argument with ``None`` meaning "left at its default".

    Example:
        >>> reject_arguments("np.sum", out=None)
        >>> try:
        ...     reject_arguments("np.sum", out=[1])
        ... except UnsupportedOperationError as err:
        ...     print(err.operation)
        np.sum(..., out=)
    """
    bad = [key for key, value in given.items() if value is not None]
    if bad:
        advice = {"out": "use the return value instead of out=",
                  "dtype": "drop dtype= and convert the result instead (.astype(np.float32))"}
        raise UnsupportedOperationError(
            f"{function}(..., {', '.join(f'{k}=' for k in bad)})",
            reason=f"{'this argument is' if len(bad) == 1 else 'these arguments are'} not "
                   "traced",
            hint="; ".join(dict.fromkeys(advice.get(key, f"drop {key}=") for key in bad)))


def refuse_traced(function: str, argument: str, value) -> None:
    """Refuse a traced argument whose derivative is not implemented (instead of a silent 0).

    Example:
        >>> refuse_traced("scipy.special.iv", "v", 1.0)   # a plain number: fine
    """
    if is_traced(value):
        raise UnsupportedOperationError(
            f"{function} with a traced {argument}",
            reason=f"its derivative with respect to {argument} is not implemented",
            hint=f"pass {argument} as a plain number (or wrap it: tg.constant(...))")


def unregister(name: str) -> None:
    """Remove a primitive (and its numpy routes) from the registry.

    Example:
        >>> import tracegraph as tg
        >>> "no_such_rule" in [p.name for p in tg.primitives()]
        False
    """
    _registry.unregister(name)


def numpy_routes(prim: Primitive) -> list[str]:
    """How numpy/scipy code reaches ``prim``: the callables routed to it, as written.

    Example:
        >>> numpy_routes(REGISTRY["tanh"]), numpy_routes(REGISTRY["transpose"])[:3]
        (['np.tanh'], ['np.transpose', 'np.swapaxes', 'np.moveaxis'])
    """
    names = []
    for func, owner in _registry.ROUTE_OWNERS.items():
        if owner is prim:
            if isinstance(func, tuple):
                names.append(f"{numpy_name(func[0])}.{func[1]}")
            else:
                names.append(numpy_name(func))
    return names


def primitives() -> tuple[Primitive, ...]:
    """Every registered primitive, built-ins first, in declaration order.

    Example:
        >>> import tracegraph as tg
        >>> [p.name for p in tg.primitives()][:3]
        ['add', 'subtract', 'multiply']
    """
    return tuple(REGISTRY.values())
