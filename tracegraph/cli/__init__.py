"""The ``tracegraph`` command (typer): render, explain and export a plain Python expression file.

Each command lives in its own module of this package and is registered by
listing the module's name in :data:`COMMAND_MODULES` - adding a command is
that one line.  A command module defines:

    NAME     the command's name (``"render"``)
    EPILOG   examples shown under ``--help`` (rich markup)
    command  the typer function (its docstring is the help text)

Commands are thin: they call :func:`tracegraph.script.load_script` and the
library, and report problems through :func:`._common.reporting`, which maps
every error to a one-paragraph message and an exit code (docs/cli.md).

Example:
    >>> from typer.testing import CliRunner
    >>> result = CliRunner().invoke(app, ["--version"])
    >>> result.exit_code, result.output.startswith("tracegraph ")
    (0, True)
"""

from __future__ import annotations

import importlib
import inspect
from typing import Annotated

import typer

from .. import __version__

COMMAND_MODULES = ("render", "explain", "paths", "export", "check", "hessian", "rules",
                   "descend")
"""Modules of this package that each define one command, in ``--help`` order."""

app = typer.Typer(
    name="tracegraph",
    help="See and check derivatives: trace a plain Python expression file into a chain-rule "
    "graph with values and gradients, and render, explain or export it.\n\n"
    "The file is ordinary Python: numbers bound to top-level names are the inputs, every "
    "assignment names a node (G = A + B + C), the last value assigned is the output. "
    "See docs/expr-files.md.",
    epilog="[bold]Start here[/]\n\n"
    "  tracegraph render examples/neuron.py\n\n"
    "  tracegraph explain examples/neuron.py",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tracegraph {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Show the version and exit.")] = False,
) -> None:
    """App-level options; the app's help text is given to typer.Typer above."""


def _register(module_name: str) -> None:
    module = importlib.import_module(f"{__name__}.{module_name}")
    # The docstring's prose is the help text; its Example section is for doctests.
    help_text = inspect.getdoc(module.command).split("\nExample:", 1)[0].strip()
    app.command(name=module.NAME, help=help_text, epilog=module.EPILOG)(module.command)


for _module_name in COMMAND_MODULES:
    _register(_module_name)


def main() -> None:
    """Entry point of the ``tracegraph`` console script and ``python -m tracegraph``.

    Example:
        >>> import subprocess, sys
        >>> done = subprocess.run([sys.executable, "-m", "tracegraph", "--version"],
        ...                       capture_output=True, text=True)
        >>> done.stdout.startswith("tracegraph ")
        True
    """
    app(prog_name="tracegraph")
