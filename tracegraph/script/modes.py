"""Loading an expression file in one of its modes: script, function, or self-traced.

:func:`load_script` reads the file (:mod:`.source`), decides the mode (see
:mod:`tracegraph.script`), runs it (:mod:`.running`) with a binder
(:mod:`.binder`) and returns a :class:`ScriptResult`.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.py"
    >>> _ = path.write_text("inputs = {'w': 0.5}\\ndef loss(w):\\n    return w * w\\n")
    >>> result = load_script(path)
    >>> result.mode, result.output, result.trace.grads
    ('function', 'loss', {'w': 1.0})
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core import Var, shape_of
from ..errors import NoGradientError, NothingToTraceError, ScriptChoiceError, display_path, mention
from ..graph import output_id
from ..trace import Trace, Tracer
from .binder import Binder, Binding, ClaimSource, NotAClaim, Version
from .output import choose_output, parse_ref
from .overrides import apply_override, unknown_override
from .running import execute, user_errors
from .source import (
    asks_for_function_mode,
    changed_in_place,
    compile_tree,
    is_main_guard,
    read_source,
    traces_itself,
)

_CONVENTION = (
    "bind numbers or float arrays to names at the top level (w1 = 0.5), compute with them "
    "(Loss = (gold - w1 * x1) ** 2) and the last value assigned is the output; or assign "
    "`inputs = {...}` and define a function whose parameters are its keys. "
    "See docs/expr-files.md"
)


@dataclass
class ScriptResult:
    """What :func:`load_script` traced, and from where.

    Attributes:
        trace: the :class:`~tracegraph.Trace` (differentiated when the output is a scalar).
        path: the file.
        mode: ``"script"`` (traced as written) or ``"function"`` (a function was
            traced, by tracegraph or by the file itself).
        inputs: ``{input name: value used}`` (after overrides).
        output: the output node's id in ``trace.graph``.
        claims: hand-derived derivatives (``dS_dG``) by name.
        bindings: traced values assigned to top-level names, in order (script mode).
        output_reason: why the output is that value (``"line 16, the last value
            assigned that is computed from the inputs"``); :meth:`describe_output`
            makes the one-line header of the commands.
        versions: every value bound to a name, in order (script mode; see
            :class:`~tracegraph.script.Version`).
        not_claims: names shaped like claims that are ordinary values (``dx_dt`` with
            no traced ``t``), each with the reason.

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
    output_reason: str = ""
    versions: tuple[Version, ...] = ()
    not_claims: dict[str, NotAClaim] = field(default_factory=dict)

    def describe_output(self) -> str:
        """One line saying which node is the output and why.

        Example:
            >>> import pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
            >>> _ = path.write_text("x = 3.0\\ny = x * x\\n")
            >>> load_script(path).describe_output()
            'output: y (line 2, the last value assigned that is computed from the inputs)'
        """
        label = self.trace.graph.nodes[self.output]["label"]
        return f"output: {label}" + (f" ({self.output_reason})" if self.output_reason else "")

    def node_id(self, ref: str) -> str | None:
        """The graph id of the node ``ref`` names, or None when the graph has no such node.

        A name means what Python means by it at the end of the file: its last
        version (``y`` after ``y = x * 3; y = y ** 2`` is the second ``y``);
        ``h@12`` is the value line 12 assigned to ``h``, ``h#2`` or ``h₂`` its
        second version, and other graph ids (``n5``) are taken as they are.

        Example:
            >>> import pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "twice.py"
            >>> _ = path.write_text("x = 2.0\\ny = x * 3\\ny = y ** 2\\n")
            >>> r = load_script(path)
            >>> r.node_id("y@2"), r.node_id("y₂"), r.node_id("y"), r.node_id("z")
            ('y', 'y#2', 'y#2', None)
        """
        graph = self.trace.graph
        name, line, version = parse_ref(ref)
        if version is not None:
            wanted = name if version == 1 else f"{name}#{version}"
            return wanted if wanted in graph else None
        meant = self.version_meant(ref)
        if meant is not None:
            ids = {data["index"]: node for node, data in graph.nodes(data=True)}
            # not in the graph (it does not lead to the output): never the first version,
            # whose id is the bare name
            return ids.get(meant.index)
        return ref if ref in graph else None

    def version_meant(self, ref: str) -> Version | None:
        """The value of the file ``ref`` names (``y``: its last version, ``y@3``: the last
        value line 3 bound, ``y#2`` or ``y₂``: the second), whether or not it leads to the
        output; None when ``ref`` names no value of the file.

        Example:
            >>> import pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "twice.py"
            >>> _ = path.write_text("x = 2.0\\ny = x * 3\\ny = y ** 2\\n")
            >>> r = load_script(path)
            >>> r.version_meant("y").lineno, r.version_meant("y#1").lineno, r.version_meant("z")
            (3, 2, None)
        """
        name, line, version = parse_ref(ref)
        bound = [v for v in self.versions if v.name == name]
        if version is not None:
            indices = sorted({v.index for v in bound})
            if not 0 < version <= len(indices):
                return None
            return next(v for v in bound if v.index == indices[version - 1])
        found = [v for v in bound if line is None or v.lineno == line]
        return found[-1] if found and (line is not None or name == ref) else None


def load_script(path: str | os.PathLike[str], *, overrides: Mapping[str, Any] | None = None,
                output: str | None = None, function: str | None = None,
                wrt: Sequence[str] | None = None) -> ScriptResult:
    """Run an expression file and trace it (see the module docstring for the rules).

    Args:
        path: the ``.py`` file.
        overrides: ``{input name: value}`` replacing inputs' values;
            a name that is not an input is an error listing the inputs.
        output: the value to end the trace at (a name, or a version: ``h@12``,
            ``h#2``) instead of the one the output rule picks.
        function: trace this function of the file.
        wrt: names that must be inputs although the rules make them constants
            (an int never used in arithmetic with traced values, a default
            argument of the traced function).

    Raises:
        ScriptFileError: the file is missing, not Python, or has a syntax error.
        OverrideError: an override names no input or changes its shape.
        ScriptChoiceError: ``output`` or ``function`` names nothing the file has.
        UserCodeError: the file's own code raised (the exception is the cause).
        NothingToTraceError: no traced value, or no function fitting ``inputs``.
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
    tree, filename = read_source(path)
    overrides = dict(overrides or {})
    wrt = list(wrt or ())
    if function is not None or asks_for_function_mode(tree):
        return _load_function(tree, path, filename, overrides, output, function, wrt)
    if traces_itself(tree):
        return _load_self_traced(tree, path, filename, overrides, output)
    return _load_script_mode(tree, path, filename, overrides, output, wrt)


def _load_script_mode(tree: ast.Module, path: Path, filename: str,
                      overrides: dict[str, Any], output: str | None,
                      wrt: list[str]) -> ScriptResult:
    code = compile_tree(tree, filename)
    tracer = Tracer()
    binder = Binder(tracer, overrides, wrt, changed_in_place(tree))
    with tracer:
        execute(code, path, filename, binder)
        binder.check_overrides(path)
        if not binder.bindings and binder.traces and output is None:
            # The file traced something itself from a helper function.
            tracer.tape.closed = True
            return _self_traced_result(binder, path, output)
        choice = choose_output(binder, path, output)
        if choice is None:
            raise _no_traced_value(binder, path, tree)
        trace = tracer.finish(choice.var, name=choice.name)
    return ScriptResult(trace, path, "script", dict(binder.inputs), _output_id(trace),
                        dict(binder.claims), tuple(b for b, _ in binder.bindings),
                        choice.reason, tuple(binder.versions), dict(binder.not_claims))


def _no_traced_value(binder: Binder, path: Path, tree: ast.Module) -> NothingToTraceError:
    if binder.bindings:
        names = ", ".join(dict.fromkeys(b.name for b, _ in binder.bindings))
        return NothingToTraceError(
            f"no output found in {display_path(path)}: every value assigned at the top level "
            f"({names}) is computed from claims or only counts",
            hint='declare the output in the file (output = "loss") or pick it with '
            + mention("output", "NAME"))
    hint = _CONVENTION
    if binder.rebound:
        name, line = next(iter(binder.rebound.items()))
        found = (f"{name!r} is bound to a number twice (lines {binder.first_lines[name]} and "
                 f"{line}); the input is the first, and the lines after {line} compute from "
                 "the second, a plain number")
        hint = (f"bind each input once: drop one of the two bindings of {name}, or name the "
                "second value differently")
    elif binder.inputs:
        found = ("its inputs are " + ", ".join(binder.inputs)
                 + ", but no top-level assignment computes a value from them")
    elif binder.int_lines:
        names = ", ".join(binder.int_lines)
        found = (f"the numbers bound at the top level ({names}) are ints, which stay "
                 "constants (counts, indices) unless the file mixes them with floats")
        first = next(iter(binder.int_lines))
        hint = (f"write a float to differentiate with respect to it ({first} = "
                f"{binder.namespace.get(first, 3)}.0)")
    else:
        found = "no top-level name is bound to a number or float array, so it has no inputs"
    if any(is_main_guard(node) for node in tree.body):
        found += ' (code under `if __name__ == "__main__":` does not run when tracing)'
    return NothingToTraceError(f"no traced value found in {display_path(path)}: {found}",
                               hint=hint)


def _output_id(trace: Trace) -> str:
    # Not trace.graph: the caller decides when to build it (the CLI shows progress for it).
    return output_id(trace.tape)


def _load_self_traced(tree: ast.Module, path: Path, filename: str,
                      overrides: dict[str, Any], output: str | None) -> ScriptResult:
    binder = Binder(None, overrides)
    execute(compile_tree(tree, filename), path, filename, binder)
    binder.check_overrides(path)
    return _self_traced_result(binder, path, output)


def _self_traced_result(binder: Binder, path: Path, output: str | None) -> ScriptResult:
    traces = dict(binder.traces)
    if not traces:
        raise NothingToTraceError(
            f"{display_path(path)} calls tracegraph.trace, but binds no Trace to a top-level name",
            hint="assign the result at the top level (t = tracegraph.trace(loss, w=0.5)), or "
            "remove the call and let tracegraph trace the file: " + _CONVENTION)
    if output is None:
        name, trace = binder.traces[-1]
        reason = f"the last Trace the file binds to a name: {name}"
    elif output in traces:
        trace = traces[output]
        reason = f"the Trace {output}, chosen with {mention('output', output)}"
    else:
        raise ScriptChoiceError(
            f"{mention('output', output)}: {display_path(path)} binds no Trace named {output!r}",
            hint="this file traces itself; the output is one of its Trace variables: "
            + ", ".join(traces))
    return ScriptResult(trace, path, "function", dict(trace.inputs), _output_id(trace),
                        dict(binder.claims), output_reason=reason)


# --------------------------------------------------------------------------- function mode


def _load_function(tree: ast.Module, path: Path, filename: str, overrides: dict[str, Any],
                   output: str | None, function: str | None, wrt: list[str]) -> ScriptResult:
    binder = Binder(None, {})
    namespace = execute(compile_tree(tree, filename), path, filename, binder)
    fn = _pick_function(namespace, path, filename, function)
    inputs, defaults = _function_inputs(namespace, fn, path)
    for name in wrt:  # --wrt makes a default argument an input
        if name in defaults:
            inputs[name] = defaults.pop(name)
    for name, value in overrides.items():
        given = inputs if name in inputs else defaults if name in defaults else None
        if given is None:
            raise unknown_override(name, path, list(inputs) + list(defaults))
        given[name] = apply_override(name, given[name], value)
    binder.latest.clear()
    tracer = Tracer()
    with tracer, user_errors(path, filename):
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        # Default arguments are the function's own constants, not inputs.
        arguments.update({name: tracer.constant(name, value) for name, value in defaults.items()})
        result = fn(**arguments)
        reason = f"the value {fn.__name__}() returns"
        if output is not None:
            result = _function_output(binder, fn, path, output)
            reason = f"chosen with {mention('output', output)}"
        trace = tracer.finish(result, name=output or fn.__name__)
    return ScriptResult(trace, path, "function", dict(trace.inputs), _output_id(trace),
                        dict(binder.claims), output_reason=reason)


def _function_output(binder: Binder, fn: Any, path: Path, output: str) -> Var:
    target = binder.latest.get(output)
    if target is None:
        names = ", ".join(binder.latest) or "(none)"
        raise ScriptChoiceError(
            f"{mention('output', output)}: {fn.__name__}() in {display_path(path)} assigns no "
            f"traced value named {output!r}", hint=f"traced values assigned while it ran: {names}")
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
        raise ScriptChoiceError(f"{display_path(path)} defines no function named {requested!r}",
                                hint=f"functions defined in it: {listed}")
    inputs = namespace.get("inputs")
    keys = set(inputs) if isinstance(inputs, dict) else set()
    matching = [fn for fn in functions.values() if _accepts(fn, keys)]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        described = "; ".join(f"{n}{inspect.signature(f)}" for n, f in functions.items())
        raise NothingToTraceError(
            f"{display_path(path)} assigns `inputs` with keys "
            f"{', '.join(sorted(keys)) or '(none)'}, but defines no function whose parameters "
            "match them",
            hint=(f"functions defined: {described}. " if described else "")
            + "Make the keys of `inputs` the parameter names of the function to trace, or "
            f"name it: `function = loss` in the file, or {mention('function', 'NAME')}")
    names = ", ".join(fn.__name__ for fn in matching)
    raise ScriptChoiceError(
        f"{display_path(path)}: several functions take the parameters in `inputs`: {names}",
        hint=f"say which one to trace: add `function = {matching[0].__name__}` to the file, or "
        f"pass {mention('function', matching[0].__name__)}")


def _accepts(fn: Any, keys: set[str]) -> bool:
    parameters = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in parameters) or not keys:
        return False
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {p.name for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    return required <= keys and (accepts_any or keys <= named)


def _function_inputs(namespace: dict[str, Any], fn: Any, path: Path
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The function's inputs (the ``inputs`` dict) and its other default arguments."""
    inputs = namespace.get("inputs")
    defaults = {p.name: p.default for p in inspect.signature(fn).parameters.values()
                if p.default is not p.empty}
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise NothingToTraceError(
            f"`inputs` in {display_path(path)} is a {type(inputs).__name__}; it must be a dict "
            "from parameter names to values",
            hint=f"e.g. inputs = {{'w': 0.5, 'b': 0.1}} for def {fn.__name__}(w, b)")
    missing = [p.name for p in inspect.signature(fn).parameters.values()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and p.name not in inputs]
    if missing:
        raise NothingToTraceError(
            f"{fn.__name__}() in {display_path(path)} needs {', '.join(missing)}, which `inputs` "
            "does not give",
            hint="add them to the `inputs` dict, or give the parameters default values")
    given = {name: value for name, value in inputs.items() if isinstance(name, str)}
    return given, {name: value for name, value in defaults.items() if name not in given}


# --------------------------------------------------------------------------- for gradients


def require_gradients(result: ScriptResult) -> None:
    """Raise a clear :class:`~tracegraph.errors.NoGradientError` when the output is not a scalar.

    Commands that show gradients call this: an array output has a Jacobian,
    not a gradient, and the message lists the scalar values one could pick.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.py"
        >>> _ = path.write_text("import numpy as np\\nx = np.ones(2)\\nloss = np.sum(x * x)\\n"
        ...                     "y = x * 2.0\\n")
        >>> try:
        ...     require_gradients(load_script(path))
        ... except NoGradientError as err:
        ...     print(err.message)
        the output 'y' has shape (2,): it has no gradient (d output/d input would be a Jacobian)
    """
    shape = shape_of(result.trace.value)
    if not shape:
        return
    scalars = [b for b in result.bindings if not b.shape and b.name != result.output]
    if scalars:
        choices = ", ".join(dict.fromkeys(b.describe() for b in scalars))
        hint = (f"pick a scalar output with {mention('output', 'NAME')} (scalar values in the "
                f"file: {choices})")
    else:
        hint = (f"reduce the output to a scalar loss in the file, e.g. np.sum({result.output}) or "
                f"np.mean({result.output})")
    raise NoGradientError(
        f"the output {result.output!r} has shape {shape}: it has no gradient "
        "(d output/d input would be a Jacobian)",
        hint=f"{hint}; or show values only ({mention('values only')})")
