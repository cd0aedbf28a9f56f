"""np.einsum: any subscripts, ellipsis, implicit output, the sublist form.

The node keeps the subscripts as written (so its value is numpy's, bit for
bit); the VJP of operand k is itself an einsum of the upstream gradient and
the other operands, with the written subscripts made explicit first
(ellipsis replaced by letters, the implicit output spelled out).  Two cases
need extra operands: a letter repeated within operand k (``'ii->i'``)
writes the gradient on a diagonal (an identity matrix joins the product),
and a letter only operand k has or broadcasts (``'ij->i'``) spreads it
(a vector of ones joins).

Example:
    >>> explicit_subscripts("ij,jk", [(2, 3), (3, 4)])
    (['ij', 'jk'], 'ik')
    >>> explicit_subscripts("...i,i->...", [(5, 2, 3), (3,)])
    (['ABi', 'i'], 'AB')
"""

from __future__ import annotations

import string
from collections import Counter

import numpy as np

from ..core.var import plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive, reject_arguments
from ..formula import UPSTREAM, Symbols
from .linalg import LINALG

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def explicit_subscripts(subscripts: str, shapes: list[tuple[int, ...]]
                        ) -> tuple[list[str], str]:
    """The input and output subscripts of an einsum with every axis named by a letter.

    Ellipses become unused letters (aligned from the right, as numpy
    broadcasts them); an implicit output is the ellipsis axes followed by the
    letters used once, in alphabetical order (numpy's rule).

    Example:
        >>> explicit_subscripts("ba", [(3, 2)])          # implicit output: sorted letters
        (['ba'], 'ab')
        >>> explicit_subscripts("ii", [(3, 3)])          # a trace: no letter used once
        (['ii'], '')
        >>> explicit_subscripts("...j,j", [(4, 3), (3,)])
        (['Aj', 'j'], 'A')
    """
    subscripts = subscripts.replace(" ", "")
    explicit = "->" in subscripts
    inputs_text, _, output_text = subscripts.partition("->")
    inputs = inputs_text.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} subscripts for {len(shapes)} operands")
    used = {c for c in subscripts if c.isalpha()}
    free = [c for c in _LETTERS if c not in used]
    counts = []
    for sub, shape in zip(inputs, shapes):
        named = len(sub.replace("...", ""))
        if "..." not in sub and named != len(shape):
            raise ValueError(f"einsum: operand of shape {shape} has subscripts {sub!r}")
        counts.append(len(shape) - named if "..." in sub else 0)
    ellipsis = "".join(free[:max(counts, default=0)])
    expanded = [sub.replace("...", ellipsis[len(ellipsis) - count:])
                for sub, count in zip(inputs, counts)]
    if explicit:
        return expanded, output_text.replace("...", ellipsis)
    letters = Counter(c for sub in expanded for c in sub if c not in ellipsis)
    return expanded, ellipsis + "".join(sorted(c for c, n in letters.items() if n == 1))


def _sublist_form(arguments: tuple) -> tuple[str, list]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("AB,BC->AC", [a, b])``."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sublist)
    operands = list(arguments[0::2])
    sublists = list(arguments[1::2])
    if len(arguments) % 2:
        output = arguments[-1]
        operands = operands[:-1]
        return ",".join(map(letters, sublists)) + "->" + letters(output), operands
    return ",".join(map(letters, sublists)), operands


def gradient_einsum(subscripts: str, shapes: list[tuple[int, ...]], position: int
                    ) -> tuple[str, list[tuple[str, int]]]:
    """The einsum giving the VJP of operand ``position``: its subscripts and the
    operands in order, as ``("g", -1)``, ``("operand", i)``, ``("eye", n)``, ``("ones", n)``.

    Example:
        >>> gradient_einsum("ij,jk->ik", [(2, 3), (3, 4)], 0)
        ('ik,jk->ij', [('g', -1), ('operand', 1)])
        >>> gradient_einsum("ii->", [(3, 3)], 0)
        (',i,iA->iA', [('g', -1), ('ones', 3), ('eye', 3)])
    """
    inputs, output = explicit_subscripts(subscripts, shapes)
    target = inputs[position]
    target_shape = shapes[position]
    reach: dict[str, int] = {}  # largest size each letter has outside operand k
    for letter, size in zip(output, _output_sizes(inputs, shapes, output)):
        reach[letter] = max(reach.get(letter, 0), size)
    terms, operands = [output], [("g", -1)]
    for i, (sub, shape) in enumerate(zip(inputs, shapes)):
        if i != position:
            terms.append(sub)
            operands.append(("operand", i))
            for letter, size in zip(sub, shape):
                reach[letter] = max(reach.get(letter, 0), size)
    unused = iter(c for c in _LETTERS if c not in set("".join(inputs) + output))
    result, seen = [], set()
    for letter, size in zip(target, target_shape):
        if letter in seen:  # a diagonal of operand k: the identity writes ḡ onto it
            fresh = next(unused)
            terms.append(letter + fresh)
            operands.append(("eye", size))
            result.append(fresh)
            continue
        seen.add(letter)
        result.append(letter)
        if reach.get(letter, 0) < size:  # summed or broadcast only in operand k
            terms.append(letter)
            operands.append(("ones", size))
    return ",".join(terms) + "->" + "".join(result), operands


def _output_sizes(inputs, shapes, output):
    sizes: dict[str, int] = {}
    for sub, shape in zip(inputs, shapes):
        for letter, size in zip(sub, shape):
            sizes[letter] = max(sizes.get(letter, 1), size)
    return [sizes[letter] for letter in output]


def _einsum(*operands, subscripts, optimize=False):
    return np.einsum(subscripts, *operands, optimize=optimize)


def _vjp_optimize(optimize):
    # A precomputed contraction path belongs to the forward shapes, not the VJP's.
    return optimize if optimize in (False, True, "greedy", "optimal") else "greedy"


def _einsum_vjp(g, out, *operands, subscripts, optimize=False, position=0):
    shapes = [np.shape(plain_value(op)) for op in operands]
    spec, parts = gradient_einsum(subscripts, shapes, position)
    arrays = []
    for kind, arg in parts:
        if kind == "g":
            arrays.append(g)
        elif kind == "operand":
            arrays.append(operands[arg])
        elif kind == "eye":
            arrays.append(np.eye(arg))
        else:
            arrays.append(np.ones(arg))
    return EINSUM(*arrays, subscripts=spec, optimize=_vjp_optimize(optimize))


def _operand_labels(s: Symbols) -> list[str]:
    return [str(s.names[f"arg{k}"]) for k in range(len(s.values))]


def _einsum_display(s: Symbols) -> str:
    return f"einsum('{s.params['subscripts']}', {', '.join(_operand_labels(s))})"


def _einsum_formula(s: Symbols) -> str:
    labels = _operand_labels(s)
    shapes = [np.shape(plain_value(s.values[f"arg{k}"])) for k in range(len(labels))]
    spec, parts = gradient_einsum(s.params["subscripts"], shapes, s.position)
    names = {"g": lambda arg: UPSTREAM, "operand": lambda arg: labels[arg],
             "eye": lambda arg: "I", "ones": lambda arg: "1"}
    return f"einsum('{spec}', {', '.join(names[kind](arg) for kind, arg in parts)})"


def _einsum_route(prim, *operands, out=None, optimize=False, dtype=None, order="K",
                  casting="safe"):
    reject_arguments("np.einsum", out=out, dtype=dtype, order=None if order == "K" else order,
                     casting=None if casting == "safe" else casting)
    if not operands:
        raise TypeError("np.einsum needs subscripts and operands")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        subscripts, arrays = _sublist_form(operands)
    if not arrays:
        raise UnsupportedOperationError("np.einsum without operands")
    return prim(*arrays, subscripts=subscripts.replace(" ", ""), optimize=optimize)


def _einsum_sample(rng):
    names = "abcd"
    sizes = {c: int(rng.integers(1, 4)) for c in names}
    batch = tuple(int(n) for n in rng.integers(1, 3, size=int(rng.integers(0, 3))))
    use_ellipsis = bool(rng.integers(0, 3) == 0)
    subs, arrays = [], []
    for _ in range(int(rng.integers(1, 4))):
        letters = "".join(rng.choice(list(names), size=int(rng.integers(0, 4))))
        shape = [sizes[c] for c in letters]
        if letters and letters.count(letters[0]) == 1 and rng.integers(0, 4) == 0:
            shape[0] = 1  # a broadcast axis
        if use_ellipsis and rng.integers(0, 2):
            own_batch = batch[int(rng.integers(0, len(batch) + 1)):]
            letters, shape = "..." + letters, list(own_batch) + shape
        subs.append(letters)
        arrays.append(rng.normal(size=tuple(shape)))
    used = sorted(set("".join(subs).replace(".", "")))
    if rng.integers(0, 2):
        subscripts = ",".join(subs)
    else:
        chosen = [str(c) for c in rng.permutation(used)[:int(rng.integers(0, len(used) + 1))]]
        ellipsis = "..." if any("..." in s for s in subs) else ""
        subscripts = ",".join(subs) + "->" + ellipsis + "".join(chosen)
    return tuple(arrays), {"subscripts": subscripts}


EINSUM = defprimitive(
    "einsum", _einsum, variadic=True, category=LINALG, display=_einsum_display,
    numpy={np.einsum: _einsum_route},
    grads={"operands": (_einsum_vjp, _einsum_formula)},
    sample=_einsum_sample,
    doc="np.einsum(subscripts, *operands): any subscripts, ellipsis, implicit output, "
        "sublists",
)
