"""One error hierarchy for tracegraph.

Every message says three things: what went wrong, where (the user's file:line
and the node's name when there is one) and how to fix it.  ``where`` is found
by walking the Python stack to the first frame that belongs to neither
tracegraph nor numpy, which is the user's own line.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> try:
    ...     tg.trace(lambda x: np.spacing(x), x=8.0)
    ... except tg.UnsupportedOperationError as err:
    ...     print(err.operation)
    np.spacing
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_internal(filename: str) -> bool:
    """True for frames of tracegraph itself, numpy, or interpreter machinery."""
    if filename.startswith(_PACKAGE_DIR + os.sep):
        return True
    return f"{os.sep}numpy{os.sep}" in filename or filename.startswith("<frozen")


@dataclass(frozen=True)
class SourceLocation:
    """A place in the user's code: file, line, and the exact expression if known.

    Example:
        >>> loc = SourceLocation("expr.py", 3, "S = math.exp(G)", "math.exp(G)")
        >>> str(loc)
        'expr.py:3'
    """

    filename: str
    lineno: int
    line: str = ""
    expression: str = ""

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"

    def describe(self) -> str:
        """``file:line: source line`` (or just ``file:line``)."""
        return f"{self}: {self.line}" if self.line else str(self)


def _expression_at(frame) -> str:
    """The source text of the expression a frame is executing, e.g. ``math.exp(G)``."""
    code = frame.f_code
    try:
        positions = list(code.co_positions())
        lineno, end_lineno, col, end_col = positions[frame.f_lasti // 2]
    except (AttributeError, IndexError, ValueError):
        return ""
    if None in (lineno, end_lineno, col, end_col):
        return ""
    lines = [linecache.getline(code.co_filename, n) for n in range(lineno, end_lineno + 1)]
    if not any(lines):
        return ""
    if lineno == end_lineno:
        return lines[0][col:end_col]
    return (lines[0][col:] + "".join(lines[1:-1]) + lines[-1][:end_col]).strip()


def user_location(skip: int = 1) -> SourceLocation | None:
    """The innermost stack frame that is the user's code, not tracegraph or numpy.

    Example:
        >>> user_location() is not None
        True
    """
    frame = sys._getframe(skip)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    filename = frame.f_code.co_filename
    line = linecache.getline(filename, frame.f_lineno).strip()
    return SourceLocation(display_path(filename), frame.f_lineno, line, _expression_at(frame))


def display_path(path: str | os.PathLike) -> str:
    """A path as the user would type it: an absolute path inside the working
    directory becomes relative; relative paths and ``<string>`` names stay as given.

    Example:
        >>> import os
        >>> display_path(os.path.join(os.getcwd(), "expr.py")), display_path("<stdin>")
        ('expr.py', '<stdin>')
    """
    text = os.fspath(path)
    if text.startswith("<") or not os.path.isabs(text):
        return text
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return text
    return text if relative.startswith("..") else relative


class TracegraphError(Exception):
    """Base class of every error tracegraph raises on purpose.

    Example:
        >>> issubclass(UnsupportedOperationError, TracegraphError)
        True
    """

    def __init__(self, message: str, *, location: SourceLocation | None = None,
                 node: str | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.node = node
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [self.message]
        if self.location is not None:
            parts.append(f"  at {self.location.describe()}")
        if self.hint:
            parts.append(f"  how to fix: {self.hint}")
        return "\n".join(parts)


class UnsupportedOperationError(TracegraphError, TypeError):
    """An operation on a traced value that has no derivative rule.

    ``operation`` names it (``np.spacing``, ``np.add.reduceat``, ``scipy.special.zeta`` ...).

    Example:
        >>> err = UnsupportedOperationError("np.spacing")
        >>> "register" in str(err)
        True
    """

    def __init__(self, operation: str, *, reason: str = "", hint: str | None = None,
                 location: SourceLocation | None = None, node: str | None = None):
        self.operation = operation
        what = f"{operation} is not supported on traced values"
        if reason:
            what += f": {reason}"
        else:
            what += " (tracegraph has no derivative rule for it)"
        if hint is None:
            hint = (
                "rewrite it with supported operations (`tracegraph rules` lists them), or "
                "register a rule: `@tracegraph.primitive(grads={...})` on a function that "
                "computes it with numpy; see docs/extending.md"
            )
        super().__init__(what, location=location or user_location(), node=node, hint=hint)


class TracedValueLeakError(TracegraphError, TypeError):
    """A traced value was turned into a plain number (``float(x)``, ``math.exp(x)`` ...).

    The result would no longer be part of the trace, so any gradient computed
    through it would be silently wrong; tracegraph refuses instead.

    Example:
        >>> issubclass(TracedValueLeakError, TypeError)
        True
    """


class ForeignTraceError(TracegraphError, ValueError):
    """Values from two different traces (or from a finished one) were combined.

    Example:
        >>> issubclass(ForeignTraceError, TracegraphError)
        True
    """


class ConstantChangedError(TracegraphError, ValueError):
    """A large constant array a trace read was changed in place afterwards, so the record
    no longer holds the values the trace computed with (small ones are copied instead).

    Example:
        >>> issubclass(ConstantChangedError, ValueError)
        True
    """


class NotDifferentiatedError(TracegraphError, ValueError):
    """Gradients were asked for, but the output is not a scalar and no seed was given.

    Example:
        >>> issubclass(NotDifferentiatedError, ValueError)
        True
    """


class RuleDeclarationError(TracegraphError, ValueError):
    """A derivative rule declared with ``tg.defprimitive`` / ``@tg.primitive`` that cannot
    work (a malformed ``grads=`` entry, a VJP of the wrong arity, a formula naming
    nothing), refused at the declaration's line rather than at the first backward pass.

    Example:
        >>> issubclass(RuleDeclarationError, ValueError)
        True
    """


class NonFiniteWarning(UserWarning):
    """A NaN or infinity appeared in the forward values or the gradients.

    Turn it into an error with ``warnings.simplefilter("error", tg.NonFiniteWarning)``.

    Example:
        >>> issubclass(NonFiniteWarning, Warning)
        True
    """


class GraphvizNotFoundError(TracegraphError, RuntimeError):
    """An image was asked for but Graphviz's ``dot`` program is not installed.

    Tracing, ``.dot`` and ``.json`` output work without it.

    Example:
        >>> "apt-get install graphviz" in str(GraphvizNotFoundError())
        True
    """

    def __init__(self, program: str = "dot", *, what: str = "an image") -> None:
        otherwise = mention("no graphviz")
        super().__init__(
            f"writing {what} needs Graphviz's `{program}` program, which is not installed "
            "(or not on PATH)",
            hint="install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
            "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, or "
            "`choco install graphviz` (Windows)" + (f"; {otherwise}" if otherwise else ""),
        )


class ScriptError(TracegraphError):
    """A problem with a user's expression file; the subclasses say which kind.

    Example:
        >>> issubclass(ScriptFileError, ScriptError), issubclass(UserCodeError, ScriptError)
        (True, True)
    """


class ScriptFileError(ScriptError, ValueError):
    """The file cannot be read as Python: missing, a folder, not ``.py``, unreadable,
    or a syntax error.

    Example:
        >>> ScriptFileError("nueron.py does not exist", hint="did you mean neuron.py?").hint
        'did you mean neuron.py?'
    """


class OverrideError(ScriptError, ValueError):
    """A replacement value for an input is malformed, names no input, or changes its shape.

    Example:
        >>> issubclass(OverrideError, ValueError)
        True
    """


class ScriptChoiceError(ScriptError, LookupError):
    """The output or function asked for is not in the file (or the file leaves the
    choice of function open).

    Example:
        >>> issubclass(ScriptChoiceError, LookupError)
        True
    """


class UserCodeError(ScriptError):
    """The file's own code raised an exception (or called ``sys.exit``) while traced.

    The exception is the ``__cause__``.

    Example:
        >>> issubclass(UserCodeError, ScriptError)
        True
    """


class NothingToTraceError(ScriptError):
    """The file ran, but there is nothing to trace: no traced value, no Trace bound,
    no function matching its ``inputs``, or ``inputs`` that do not fit.

    Example:
        >>> issubclass(NothingToTraceError, ScriptError)
        True
    """


class NoGradientError(ScriptError, NotDifferentiatedError):
    """Gradients were asked of a file whose output is an array (it has a Jacobian).

    Example:
        >>> issubclass(NoGradientError, NotDifferentiatedError)
        True
    """


# --------------------------------------------------------------------------- wording

LIBRARY_WORDING: Mapping[str, str] = MappingProxyType({
    "override": "override {}",
    "output": "output={}",
    "function": "function={}",
    "values only": "show='values'",
    "traceback": "the error's __cause__ holds the full traceback",
    "max evaluations": "max_evaluations={}",
    # the diagram's options, as its notes name them
    "every node": "max_nodes=None",
    "node budget": "max_nodes={}",
    "focus or path": "focus=/path=",
    "focus": "focus={!r}",
    "path": "path=({!r}, {!r})",
    "draw constants": "show_constants=True",
    "expand": "expand={{{}}}",
    # what else to do without Graphviz (a docs page cannot choose its format)
    "no graphviz": "or write .dot / .json, which need no Graphviz",
})
"""How messages mention the options of :func:`tracegraph.script.load_script`
(``{}`` is the value); the command line words them as its flags instead."""

_WORDING: ContextVar[Mapping[str, str]] = ContextVar("tracegraph_wording",
                                                     default=LIBRARY_WORDING)


def mention(option: str, *values: str) -> str:
    """How a message names an option in the current wording (see :func:`worded`); an
    option of two parts (``path``) takes both.

    Example:
        >>> mention("override", "w1=0.5"), mention("output", "NAME")
        ('override w1=0.5', 'output=NAME')
        >>> with worded({"override": "--set {}", "path": "--path {},{}"}):
        ...     mention("override", "w1=0.5"), mention("path", "w1", "Loss")
        ('--set w1=0.5', '--path w1,Loss')
        >>> mention("path", "w1", "Loss")
        "path=('w1', 'Loss')"
    """
    template = _WORDING.get().get(option, LIBRARY_WORDING[option])
    return template.format(*(values or ("",))).strip()


@contextlib.contextmanager
def worded(wording: Mapping[str, str]) -> Iterator[None]:
    """Messages made inside the block mention options as ``wording`` spells them
    (``{"override": "--set {}"}``); the others keep the library's words.

    Example:
        >>> with worded({"override": "--set {}"}):
        ...     mention("override", "w1=0.5"), mention("output", "f")
        ('--set w1=0.5', 'output=f')
        >>> mention("override", "w1=0.5")   # outside the block: the library's words again
        'override w1=0.5'
    """
    token = _WORDING.set(MappingProxyType({**LIBRARY_WORDING, **wording}))
    try:
        yield
    finally:
        _WORDING.reset(token)
