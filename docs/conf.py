"""Sphinx configuration of tracegraph's own documentation (``make docs``).

The pages are the Markdown guides of this folder (MyST); the diagrams in
them are drawn at build time by tracegraph's own Sphinx extension.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's tracegraph

project = "tracegraph"
author = "the tracegraph authors"
copyright = "the tracegraph authors"

extensions = ["myst_parser", "tracegraph.sphinx"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# Links such as [cli.md](cli.md#exit-codes) point at headings, as on GitHub.
myst_heading_anchors = 4

html_theme = "furo"
html_title = "tracegraph"
html_static_path = []
