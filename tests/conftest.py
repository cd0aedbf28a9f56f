"""Shared test setup.

Tests that run Graphviz's ``dot`` program carry ``@pytest.mark.needs_dot``;
they are skipped (with the reason shown) when ``dot`` is not on PATH, so the
rest of the suite runs on machines without Graphviz.
"""

from __future__ import annotations

import shutil

import pytest

HAVE_DOT = shutil.which("dot") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_DOT:
        return
    skip = pytest.mark.skip(reason="Graphviz's `dot` program is not installed "
                                   "(apt-get install graphviz / brew install graphviz)")
    for item in items:
        if "needs_dot" in item.keywords:
            item.add_marker(skip)
