"""The command's exit codes, all in one table (docs/cli.md, "Exit codes").

The library raises errors of kinds (:mod:`tracegraph.errors`) and reports
outcomes (:data:`tracegraph.verdicts.OUTCOMES`); only the command line turns
them into numbers, here.  The command's own errors are kinds too:
:class:`CommandError` (how it was called) and :class:`OutputError` (what it
was asked to write).

Example:
    >>> from tracegraph.errors import ScriptFileError, UserCodeError
    >>> for_error(ScriptFileError("x.py does not exist")), for_error(UserCodeError("boom"))
    (2, 3)
    >>> for_outcome("failed"), for_outcome("ok"), for_error(KeyError("a bug"))
    (1, 0, 70)
"""

from __future__ import annotations

from ..errors import (
    GraphvizNotFoundError,
    NoGradientError,
    NothingToTraceError,
    OverrideError,
    RuleDeclarationError,
    ScriptChoiceError,
    ScriptError,
    ScriptFileError,
    TracegraphError,
    UserCodeError,
)
from ..diagram.options import DiagramOptionError
from ..verdicts import FAILED, NOTHING_CHECKED, OK

SUCCESS = 0
CHECK_FAILED = 1  # check only: a claim is wrong, or --numeric disagrees
USAGE = 2  # usage or file problems: missing file, syntax error, bad option
USER_CODE = 3  # the file's own code raised (or called sys.exit)
TRACE = 4  # a tracing problem: no rule, a leak, nothing traced, no gradient
OUTPUT = 5  # an output problem: folder missing, Graphviz missing or failing
BUG = 70  # sysexits' EX_SOFTWARE: a bug in tracegraph, never confused with check's 1
INTERRUPTED = 130
BROKEN_PIPE = 141  # the reader of stdout went away (| head), as a shell reports SIGPIPE



class CommandError(TracegraphError):
    """A problem with how a command was called (an option naming nothing, a bad value).

    Example:
        >>> for_error(CommandError("--wrt w9: 'w9' is not an input"))
        2
    """


class OutputError(CommandError):
    """A command cannot or should not write where it was asked to (a folder, the file itself).

    Example:
        >>> for_error(OutputError("-o out/: this is a folder"))
        5
    """


BY_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    # Subclasses before their bases: the first kind that matches decides.
    (UserCodeError, USER_CODE),
    (RuleDeclarationError, USER_CODE),  # the file's @tg.primitive needs fixing
    (NothingToTraceError, TRACE),
    (NoGradientError, TRACE),
    (ScriptFileError, USAGE),
    (OverrideError, USAGE),
    (ScriptChoiceError, USAGE),
    (ScriptError, USAGE),
    (OutputError, OUTPUT),
    (GraphvizNotFoundError, OUTPUT),
    (CommandError, USAGE),
    (DiagramOptionError, USAGE),  # --path Loss,w1: the ends are not connected
    # Unsupported operations, leaks, foreign traces, array outputs, diagram options ...
    (TracegraphError, TRACE),
)
"""Error kind → exit code; any other exception is a bug in tracegraph (:data:`BUG`)."""

BY_OUTCOME = {OK: SUCCESS, FAILED: CHECK_FAILED, NOTHING_CHECKED: USAGE}
"""A check report's outcome → exit code."""


def for_error(err: BaseException) -> int:
    """The exit code for an error reaching the command line."""
    for kind, code in BY_ERROR:
        if isinstance(err, kind):
            return code
    return BUG


def for_outcome(outcome: str) -> int:
    """The exit code of a check report's outcome."""
    return BY_OUTCOME[outcome]
