"""How a derivative rule is declared: one call per primitive.

    defprimitive(
        "tanh", np.tanh, display="tanh({x})",
        grads={"x": (lambda g, out, x: g * (1 - out * out), "1 − {out}²")},
        numpy=(np.tanh,), scalar_impl=math.tanh,
    )

``grads`` maps each input, in order, to ``(vjp, formula)`` or ``None`` when
the input gets no gradient.  A VJP is called as ``vjp(g, out, *inputs,
**params)`` and returns upstream × local for that input (before
unbroadcasting, which the backward pass does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..core import Formula, Primitive, register

GradSpec = tuple[Callable[..., Any], Formula] | None


def defprimitive(
    name: str,
    impl: Callable[..., Any],
    *,
    grads: Mapping[str, GradSpec],
    display: Formula,
    numpy: tuple = (),
    scalar_impl: Callable[..., Any] | None = None,
    variadic: bool = False,
    kink: Callable[..., float] | None = None,
    domain: Mapping[str, tuple[float, float]] | None = None,
    sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None,
    doc: str = "",
    category: str = "user",
    replace: bool = False,
) -> Primitive:
    """Declare a primitive and register it (see module docstring).

    Example:
        >>> import numpy as np
        >>> from tracegraph.rules._declare import defprimitive
        >>> cube = defprimitive(
        ...     "doc_cube", lambda x: x ** 3, display="{x}³",
        ...     grads={"x": (lambda g, out, x: g * 3 * x ** 2, "3·{x}²")})
        >>> float(cube(2.0))
        8.0
        >>> from tracegraph.core import REGISTRY; del REGISTRY["doc_cube"]
    """
    if not grads:
        raise ValueError(f"primitive {name!r} needs at least one input in grads=")
    specs = list(grads.values())
    for argname, spec in grads.items():
        if spec is not None and (len(spec) != 2 or not callable(spec[0])):
            raise ValueError(
                f"primitive {name!r}: grads[{argname!r}] must be (vjp, formula) or None, "
                f"got {spec!r}"
            )
    if variadic and len(specs) != 1:
        raise ValueError(f"variadic primitive {name!r} takes one grads entry shared by all inputs")
    prim = Primitive(
        name=name,
        impl=impl,
        argnames=tuple(grads),
        vjps=tuple(None if spec is None else spec[0] for spec in specs),
        formulas=tuple(None if spec is None else spec[1] for spec in specs),
        display=display,
        scalar_impl=scalar_impl,
        variadic=variadic,
        kink=kink,
        domain=dict(domain or {}),
        sample=sample,
        doc=doc or (impl.__doc__ or "").strip().split("\n")[0],
        category=category,
        numpy_names=tuple(f"np.{getattr(f, '__name__', f)}" for f in numpy),
    )
    return register(prim, numpy=numpy, replace=replace)
