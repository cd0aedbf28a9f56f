"""The command's exit codes, all in one table (docs/cli.md, "Exit codes").

The library raises errors of kinds (:mod:`tracegraph.errors`) and reports
outcomes (:data:`tracegraph.verdicts.OUTCOMES`); only the command line turns
them into numbers, here.

Example:
    >>> for_outcome("failed"), for_outcome("ok")
    (1, 0)
"""

from __future__ import annotations

from ..verdicts import FAILED, NOTHING_CHECKED, OK

SUCCESS = 0
CHECK_FAILED = 1  # check only: a claim is wrong, or --numeric disagrees
USAGE = 2  # usage or file problems: missing file, syntax error, bad option
USER_CODE = 3  # the file's own code raised (or called sys.exit)
TRACE = 4  # a tracing problem: no rule, a leak, nothing traced, no gradient
OUTPUT = 5  # an output problem: folder missing, Graphviz missing or failing
BUG = 70  # sysexits' EX_SOFTWARE: a bug in tracegraph, never confused with check's 1
INTERRUPTED = 130

BY_OUTCOME = {OK: SUCCESS, FAILED: CHECK_FAILED, NOTHING_CHECKED: USAGE}


def for_outcome(outcome: str) -> int:
    """The exit code of a check report's outcome."""
    return BY_OUTCOME[outcome]
