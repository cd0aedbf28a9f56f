"""Shared test setup.

Tests that run Graphviz's ``dot`` program carry ``@pytest.mark.needs_dot``;
they are skipped (with the reason shown) when ``dot`` is not on PATH, so the
rest of the suite runs on machines without Graphviz.  The scipy rules are declared
before collection (scipy is a test extra).  With ``CI`` set in the
environment, hypothesis runs derandomized (see the profile below).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

import tracegraph.embed.drawing
from tracegraph.rules import load_scipy_rules

HAVE_DOT = shutil.which("dot") is not None

# The corpus of the differential test (tests/corpus) is expression files, not test
# modules: they are run by tests/test_differential.py, never imported for doctests.
collect_ignore_glob = ["corpus/*"]

# CI runs the property tests with a fixed seed so a green build stays green; run
# locally without CI set to explore new random cases every time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# scipy is a test extra: declare its rules before the registry-wide tests are collected,
# so the finite-difference, second-order and autograd cross-checks cover them too.
load_scipy_rules()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_DOT:
        return
    skip = pytest.mark.skip(reason="Graphviz's `dot` program is not installed "
                                   "(apt-get install graphviz / brew install graphviz)")
    for item in items:
        if "needs_dot" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def traces(monkeypatch) -> list[Path]:
    """Every file the embedding layer (Sphinx, Markdown) traces from now on, in order."""
    seen: list[Path] = []
    real = tracegraph.embed.drawing.load_script

    def spy(path, **kwargs):
        seen.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(tracegraph.embed.drawing, "load_script", spy)
    return seen


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH without Graphviz's `dot`."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
