"""One set-up call at the top of every notebook.

`setup_notebook()` makes a notebook reproducible and quiet: it seeds every random number
generator, puts the Hugging Face libraries in offline mode, fixes the number of CPU threads
(float results can differ in the last bits between thread counts), and silences the notices
that libraries print on stderr (nbval compares stderr too). It changes process-wide state, so
it is meant for notebooks, not for library code: nothing in `course_utils` calls it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import warnings

# Environment read by huggingface_hub / transformers / tokenizers when they are imported.
_QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",  # no "Some weights were not initialized…" notices
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",  # no fork warning from the Rust tokenizers
}
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and (if installed) PyTorch's global generators.

    >>> seed_everything(3); a = random.random(); seed_everything(3); a == random.random()
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    if importlib.util.find_spec("numpy") is not None:
        import numpy as np

        np.random.seed(seed)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)


def setup_notebook(seed: int = 0, *, offline: bool = True, num_threads: int | None = 2) -> None:
    """Prepare a notebook kernel: seeds, offline mode, fixed threads, quiet libraries.

    Args:
        seed: seed for `random`, NumPy and PyTorch.
        offline: set the Hugging Face offline variables, so nothing reaches for the network
            (and a missing model fails in seconds instead of retrying for a minute).
            Pass False only in a notebook that really loads from the hub when it can.
        num_threads: PyTorch CPU threads; a fixed number keeps float results identical
            between machines. None leaves PyTorch's default.

    Prints nothing and returns None, so a notebook's outputs are the same on every machine.
    """
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    if offline:
        os.environ.update(_OFFLINE_ENV)

    # Inside a Jupyter kernel, tqdm.auto (used by transformers) warns that ipywidgets is
    # missing, with the install path in the message. Text progress bars are fine here.
    warnings.filterwarnings("ignore", message="IProgress not found")

    seed_everything(seed)
    if num_threads is not None and importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(num_threads)

    if importlib.util.find_spec("jieba") is not None:
        import jieba

        # jieba logs "Building prefix dict… Loading model from cache /tmp/…" on stderr.
        jieba.setLogLevel(logging.WARNING)

    if importlib.util.find_spec("matplotlib") is not None:
        from course_utils.plotting import use_course_style

        use_course_style()
