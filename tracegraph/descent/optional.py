"""Optional packages of the descent tools: imported only by the functions that need them.

``import tracegraph`` never loads matplotlib, Pillow or scipy; a plot, an
animation or ``"nelder-mead"`` imports them on first use, and a missing one
is a one-line error that names the pip command.

Example:
    >>> require("numpy", "descent", "run").__name__
    'numpy'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import TracegraphError

EXTRA = "descent"
"""The extra of ``pyproject.toml`` that installs matplotlib, Pillow and scipy."""


class MissingExtraError(TracegraphError, ImportError):
    """An optional package is not installed; the message is the pip command that installs it.

    Example:
        >>> str(MissingExtraError("scipy", "Nelder-Mead"))
        "Nelder-Mead needs scipy: pip install 'tracegraph[descent]'"
    """

    def __init__(self, package: str, what: str, extra: str = EXTRA) -> None:
        self.package = package
        super().__init__(f"{what} needs {package}: pip install 'tracegraph[{extra}]'")


def require(module: str, package: str, what: str) -> ModuleType:
    """Import ``module`` (from the pip package ``package``) or raise :class:`MissingExtraError`.

    Example:
        >>> require("no_such_module_here", "nothing", "this example")
        Traceback (most recent call last):
        ...
        tracegraph.descent.optional.MissingExtraError: this example needs nothing: pip install 'tracegraph[descent]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(package, what) from None


def figure_class() -> type:
    """matplotlib's ``Figure``, used without pyplot: no global state, no window, any backend.

    Example:
        >>> fig = figure_class()(figsize=(4, 2))
        >>> type(fig).__name__, len(fig.subplots(1, 2)), len(fig.axes)
        ('Figure', 2, 2)
    """
    return require("matplotlib.figure", "matplotlib", "plots and animations").Figure


def pillow_image() -> ModuleType:
    """Pillow's ``PIL.Image`` (GIF animations).

    Example:
        >>> Image = pillow_image()
        >>> Image.__name__, Image.new("P", (4, 3)).size
        ('PIL.Image', (4, 3))
    """
    return require("PIL.Image", "pillow", "GIF animations")
