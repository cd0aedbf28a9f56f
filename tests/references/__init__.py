"""Independent reference implementations of every rule, written with HIPS autograd.

Each module of this package defines ``REFERENCES``: primitive name ->
``reference(*args, **params)`` written with ``autograd.numpy`` (and
``autograd.scipy``), so autograd differentiates it independently of
tracegraph's rules.  Add a module (or an entry) when you add rules: the
cross-check test fails for a registered rule without a reference.
"""

from __future__ import annotations

import importlib
import pkgutil

REFERENCES: dict = {}
for _module in pkgutil.iter_modules(__path__):
    REFERENCES.update(importlib.import_module(f"{__name__}.{_module.name}").REFERENCES)
