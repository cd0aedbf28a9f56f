"""Which value of a file is the output, and why: the output rule of docs/expr-files.md.

1. ``output=`` (``--output NAME``) wins;
2. then a top-level declaration ``output = "NAME"`` (or ``OUTPUT = "NAME"``);
3. otherwise the last value assigned at the top level that is computed from
   the inputs, is not computed from claims (``w_new = w - 0.1 * dLoss_dw``),
   is not a mere counter (``steps = steps + 1``) and is not named like a
   claim (``dx_dt`` when ``t`` is not traced).  An alias
   (``loss = y``) is the node it aliases, named ``loss``.

``NAME`` may name a version: ``h@12`` is the value line 12 assigned to ``h``
(the last one, in a loop), ``h#2`` or ``h₂`` the second value named ``h``
(as the graph numbers them).  :func:`choose_output` returns the value, its
name and the reason, for the one-line header commands print.

Example:
    >>> parse_ref("h@12"), parse_ref("h₂"), parse_ref("h#3"), parse_ref("loss")
    (('h', 12, None), ('h', None, 2), ('h', None, 3), ('loss', None, None))
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ..check.names import is_claim_name
from ..core import Var
from ..core import name as name_value
from ..core.var import add, subtract
from ..errors import ScriptChoiceError, display_path, mention
from .binder import Binder, Binding

_REF = re.compile(
    r"^(?P<name>[^@#₀-₉]+?)(?:@(?P<line>\d+)|#(?P<hash>\d+)|(?P<sub>[₀-₉]+))?$")
_FROM_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def parse_ref(ref: str) -> tuple[str, int | None, int | None]:
    """``(name, line, version)`` of a reference: ``h@12``, ``h#2``, ``h₂`` or ``h``.

    Example:
        >>> parse_ref("h@12"), parse_ref("h₂"), parse_ref("loss")
        (('h', 12, None), ('h', None, 2), ('loss', None, None))
    """
    match = _REF.match(ref.strip())
    if match is None:
        return ref, None, None
    line = match.group("line")
    version = match.group("hash") or (match.group("sub") or "").translate(_FROM_SUBSCRIPT)
    return match.group("name"), int(line) if line else None, int(version) if version else None


@dataclass(frozen=True)
class Choice:
    """The chosen output: the value, the name it goes by and why it was chosen.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tracer:
        ...     loss = tracer.input("w", 3.0) * 2.0
        >>> Choice(loss, "loss", "chosen with output=loss")
        Choice(var=<traced multiply#1 = 6.0>, name='loss', reason='chosen with output=loss')
    """

    var: Var
    name: str
    reason: str


def resolve(binder: Binder, ref: str) -> Var | None:
    """The traced value a reference names (see :func:`parse_ref`), or None.

    Example:
        >>> import tracegraph as tg
        >>> binder = Binder(tg.Tracer(), {})
        >>> with binder.tracer:
        ...     x = binder("x", 1.0, 1, True)
        ...     h = binder("h", x * 2, 2, True); h = binder("h", h * 3, 3, True)
        >>> resolve(binder, "h@2").value, resolve(binder, "h").value, resolve(binder, "y")
        (2.0, 6.0, None)
    """
    name, line, version = parse_ref(ref)
    if line is not None:
        found = [v for v in binder.versions if v.name == name and v.lineno == line]
        return binder.tracer.tape.equations[found[-1].index] if found else None
    if version is not None:
        named = [eq for eq in binder.tracer.tape.equations if eq.name == name]
        return named[version - 1] if 0 < version <= len(named) else None
    return binder.latest.get(name)


def choose_output(binder: Binder, path: Path, requested: str | None) -> Choice | None:
    """The output of a file traced in script mode (None when nothing qualifies).

    Example:
        >>> import tracegraph as tg
        >>> binder = Binder(tg.Tracer(), {})
        >>> with binder.tracer:
        ...     x = binder("x", 1.0, 1, True); y = binder("y", x * 2, 2, True)
        >>> choose_output(binder, Path("f.py"), None).reason
        'line 2, the last value assigned that is computed from the inputs'
        >>> choose_output(binder, Path("f.py"), "x").reason
        'chosen with output=x'
    """
    if requested is not None:
        return _named(binder, path, requested, f"chosen with {mention('output', requested)}")
    if binder.declared_output is not None:
        ref, lineno = binder.declared_output
        return _named(binder, path, ref, f'declared with output = "{ref}" at line {lineno}',
                      declared=lineno)
    return _by_rule(binder)


def _named(binder: Binder, path: Path, ref: str, reason: str,
           declared: int | None = None) -> Choice:
    where = (f'output = "{ref}" (line {declared})' if declared is not None
             else mention("output", ref))
    if is_claim_name(ref) and ref in binder.claims:
        raise ScriptChoiceError(
            f"{where}: {ref!r} is a hand-derived derivative (a claim), not a traced value",
            hint="choose the value the derivatives are of, e.g. the loss")
    var = resolve(binder, ref)
    if var is None:
        raise ScriptChoiceError(f"{where}: no traced value named {ref!r} in {display_path(path)}",
                                hint=_candidates_hint(binder, ref))
    name, _, _ = parse_ref(ref)
    if "@" not in ref and "#" not in ref and name == ref:
        name_value(var, name, replace=True)  # an alias chosen by its name is called so
    claims = _claims_upstream(binder, var)
    if claims is not None:
        named = f" ({', '.join(claims)})" if claims else ""
        reason += (f"; it is computed from claims{named}, which are plain "
                   "numbers: its gradients hold them fixed, so they are not the derivatives "
                   "of the program python runs")
    return Choice(var, var.name or name, reason)


def _claims_upstream(binder: Binder, var: Var) -> list[str] | None:
    """The claims a value chosen as the output is computed from (``w = w - lr * dloss_dw``
    in a loop, then ``loss``): up to three, by name; None when it is computed from none."""
    reads = _Dependence(binder.tracer.tape, binder.claim_indices)
    binding = next((b for b, v in reversed(binder.bindings) if v is var), None)
    if not (reads.on_claims[var.index] or (binding is not None and binding.from_claims)):
        return None
    named = [read for b, _ in binder.bindings if b.from_claims for read in b.reads
             if read in binder.claims]
    return list(dict.fromkeys(named))[:3]


def _by_rule(binder: Binder) -> Choice | None:
    tape = binder.tracer.tape
    skipped: list[str] = []
    reads = _Dependence(tape, binder.claim_indices)
    for binding, var in reversed(binder.bindings):
        why_not = _why_not_output(binding, var, binder, reads)
        if why_not:
            if len(skipped) < 2:
                skipped.append(f"{binding.name} (line {binding.lineno}) {why_not}")
            continue
        if binding.alias:
            name_value(var, binding.name, replace=True)
        reason = f"line {binding.lineno}, the last value assigned that is computed from the inputs"
        if binding.alias:
            reason = f"line {binding.lineno}, an alias: the last value assigned"
        if skipped:
            reason += "; later values are not: " + ", ".join(skipped)
        hint = _derivative_lookalike(binding, binder)
        if hint:
            reason += "; " + hint
        return Choice(var, binding.name, reason)
    return None


class _Dependence:
    """What each equation depends on, in one forward pass over the record (record order
    is topological): a claim's value, and a float input (not only int inputs)."""

    def __init__(self, tape: object, claims: set[int]) -> None:
        equations = tape.equations
        self.on_claims = [False] * len(equations)
        self.on_floats = [False] * len(equations)
        for eq in equations:
            i = eq.index
            if eq.primitive is None:
                self.on_floats[i] = i not in tape.integer_leaves
            sources = [x.index for x in eq.inputs if type(x) is Var and x.tape is tape]
            self.on_claims[i] = i in claims or any(self.on_claims[j] for j in sources)
            self.on_floats[i] = self.on_floats[i] or any(self.on_floats[j] for j in sources)


def _why_not_output(binding: Binding, var: Var, binder: Binder, reads: _Dependence) -> str:
    if binding.from_claims or reads.on_claims[var.index]:
        return "is computed from claims"
    if binding.name in binder.not_claims:
        return "is named like a claim"
    if not reads.on_floats[var.index] or _is_counter(binding.name, var):
        return "only counts"
    return ""


def _is_counter(name: str, var: Var) -> bool:
    """True for the same name's input with numbers added (``steps = steps + 1``)."""
    node = var
    while node.primitive is add or node.primitive is subtract:
        traced = [x for x in node.inputs if type(x) is Var]
        if len(traced) != 1:
            return False
        node = traced[0]
    return node is not var and node.primitive is None and node.name == name


def _derivative_lookalike(binding: Binding, binder: Binder) -> str:
    """A hint when the output looks like a hand-written derivative (CS231n's ``ddot``)."""
    name = binding.name
    if not (name.startswith("d") and len(name) > 1 and name[1:] in binder.latest):
        return ""
    others = [b.name for b, _ in reversed(binder.bindings)
              if not (b.name.startswith("d") and b.name[1:] in binder.latest)
              and not b.from_claims]
    if not others:
        return ""
    return (f"{name} looks like a hand-written derivative (d + {name[1:]}): if the function "
            f'is {others[0]}, declare output = "{others[0]}" in the file')


def _candidates_hint(binder: Binder, wanted: str | None = None) -> str:
    names = list(dict.fromkeys(b.name for b, _ in binder.bindings))
    if not names:
        return "no value computed from the inputs is assigned at the top level"
    close = difflib.get_close_matches(parse_ref(wanted)[0], names, n=1) if wanted else []
    prefix = f"did you mean {close[0]}? " if close else ""
    versions = [v for v in binder.versions if wanted and v.name == parse_ref(wanted)[0]]
    if versions:
        lines = ", ".join(dict.fromkeys(v.ref for v in versions))
        prefix += f"its versions: {lines}. "
    return prefix + "traced values assigned at the top level: " + ", ".join(names)
