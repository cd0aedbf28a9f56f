"""Collection rules for the whole repository (tests/conftest.py has the shared fixtures).

The Sphinx extension and the Markdown fence import their optional packages
(the ``docs`` extra); without them their doctests are not collected, so the
rest of the suite still runs.
"""

import importlib.util
import os

import pytest

collect_ignore = []
if importlib.util.find_spec("sphinx") is None:
    collect_ignore.append("tracegraph/sphinx")
if importlib.util.find_spec("markdown") is None or importlib.util.find_spec("pymdownx") is None:
    collect_ignore.append("tracegraph/markdown.py")


@pytest.fixture(autouse=True, scope="session")
def _markdown_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The Markdown fence caches in ~/.cache by default; tests keep it out of the home folder."""
    os.environ["TRACEGRAPH_CACHE_DIR"] = str(tmp_path_factory.mktemp("tracegraph-cache"))
