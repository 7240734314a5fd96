"""Helpers for the LLM Tokens course notebooks.

One module per topic; importing this package is cheap (no torch, no transformers):
heavy libraries are imported inside the modules and functions that need them.
The environment doctor is `python -m course_utils.doctor` (what `make check` runs).
"""

from course_utils.notebook_setup import setup_notebook

__all__ = ["setup_notebook"]
__version__ = "0.1.0"
