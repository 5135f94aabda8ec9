"""Sphinx configuration of the course book (make book). Built offline from the committed notebooks: their
stored outputs are what readers see (no execution). scripts/build_book.py stages the sources first."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_setting  # noqa: E402  (written by scripts/build_book.py from pyproject's [tool.workbench])

project = "Neural Compression Workbench"
author = "the Neural Compression Workbench authors"
copyright = "2026, " + author
extensions = [
    "myst_nb",
    "sphinx-mathjax-offline",
]  # MathJax served from the book itself: no network
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "repository_url": course_setting.REPOSITORY,
    "repository_branch": course_setting.BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
}
html_static_path = []
html_last_updated_fmt = None
nitpicky = False
