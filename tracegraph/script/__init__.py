"""Load an expression file (``expr.py``) and trace it: the convention behind ``tracegraph FILE``.

An expression file is ordinary Python.  How it is traced depends on what it
contains, decided in this order (see docs/expr-files.md):

1. **Function mode, by request** - ``function=`` is given:
   that function is traced with the file's ``inputs`` dict (or its defaults).
2. **Function mode, by convention** - the file assigns ``inputs = {...}`` or
   ``function = loss`` at the top level: the function named by ``function``,
   else the one function whose parameters match the keys of ``inputs``, is
   traced with ``inputs`` (missing ones from the function's defaults).
3. **The file traces itself** - a top-level statement calls
   ``tracegraph.trace`` or ``tracegraph.Tracer``: the file runs as it is and
   the last :class:`~tracegraph.Trace` it binds to a top-level name is the
   result (``output=`` picks one by name).  Reported as ``mode="function"``.
4. **Script mode** - otherwise the file traces as written: the first
   top-level binding of a name to a float or float array makes that name an
   input (an int stays a constant until it meets a traced value in
   arithmetic), every assignment names the value it binds and is a new
   version of the name (``G = A + B + C`` gives node ``G``, also inside
   functions defined in the file; ``h`` reassigned gives ``h₁ … h₅``), and
   the output is chosen by the output rule (:mod:`.output`: ``output=``, a
   declared ``output = "NAME"``, else the last value computed from the
   inputs that is not computed from claims).

Code under ``if __name__ == "__main__":`` does not run while tracing (the
file runs as module ``__tracegraph__``), so a file can print, plot or train
when run with ``python`` and still trace cleanly.

Assignments to names like ``dS_dG`` or ``dLoss_dw1`` (``d<of>_d<wrt>``; and
``d2y_dx2``, ``d2f_dx_dy``) are hand-derived *claims* when their names are
traced values at that line: they are recorded in :attr:`ScriptResult.claims`
with the values those names hold there, never become inputs, never name a
node and are never the output.  Otherwise they are ordinary values and a
note (:attr:`ScriptResult.not_claims`).


The parts: :mod:`.source` reads the file and transforms its assignments,
:mod:`.binder` receives them, :mod:`.output` chooses the output, :mod:`.running` runs the file,
:mod:`.overrides` replaces inputs' values and :mod:`.modes` puts it together
(:func:`load_script`).  Problems are raised as the kinds of
:class:`~tracegraph.errors.ScriptError` (file, override, choice, user code,
nothing to trace, no gradient); the command line maps them to exit codes.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "neuron.py").write_text(
    ...     "import tracegraph as tg\\n"
    ...     "w1 = 0.5\\nx1 = 2.0\\ngold = 1.0\\n"
    ...     "A = w1 * x1\\n"
    ...     "S = tg.sigmoid(A)\\n"
    ...     "Loss = (gold - S) ** 2\\n"
    ...     "dS_dA = S * (1 - S)\\n")
    >>> result = load_script(folder / "neuron.py")
    >>> result.mode, result.output, sorted(result.inputs)
    ('script', 'Loss', ['gold', 'w1', 'x1'])
    >>> round(float(result.trace["S"].value), 4), round(result.claims["dS_dA"].value, 4)
    (0.7311, 0.1966)
"""

from ..errors import ScriptError
from .binder import CLAIM_NAME, Binding, ClaimSource, NotAClaim, Version
from .modes import ScriptResult, load_script, require_gradients
from .output import parse_ref
from .overrides import parse_override
from .running import HIDDEN_BY_PYTHON, MODULE_NAME, output_hidden

__all__ = [
    "CLAIM_NAME",
    "HIDDEN_BY_PYTHON",
    "MODULE_NAME",
    "Binding",
    "ClaimSource",
    "NotAClaim",
    "ScriptError",
    "ScriptResult",
    "Version",
    "load_script",
    "output_hidden",
    "parse_override",
    "parse_ref",
    "require_gradients",
]
