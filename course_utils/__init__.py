"""Helpers for the LLM Tokens course notebooks.

One module per topic; importing this package is cheap (no torch, no transformers):
heavy libraries are imported inside the modules and functions that need them.
"""

from course_utils.setup import setup_notebook

__all__ = ["setup_notebook"]
__version__ = "0.1.0"
