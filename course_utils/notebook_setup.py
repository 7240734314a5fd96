"""One set-up call at the top of every notebook.

`setup_notebook()` makes a notebook reproducible and quiet: it seeds every random number
generator, puts the Hugging Face libraries in offline mode, fixes the number of CPU threads
(float results can differ in the last bits between thread counts), and silences the notices
that libraries print on stderr (nbval compares stderr too). It changes process-wide state, so
it is meant for notebooks, not for library code: nothing in `course_utils` calls it.

What it leaves out: progress bars. `course_utils.progress` draws them with `tqdm.auto` (widget
bars in JupyterLab, as ipywidgets is installed) and `TQDM_DISABLE=1` hides them in tests.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import warnings

from course_utils.language import LANGUAGES, set_language
from course_utils.validation import check_bool, check_choice, check_int, check_seed, check_str

__all__ = ["setup_notebook", "seed_everything"]

# Environment read by huggingface_hub / transformers / tokenizers when they are imported.
_QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",  # no "Some weights were not initialized…" notices
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",  # no fork warning from the Rust tokenizers
}
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
MAX_THREADS = 1024  # torch takes a C int; far more threads than cores only slows a notebook down


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and (if installed) PyTorch's global generators.

    `seed` is an int from 0 to 2**64 - 1 (the range torch accepts); not a bool.

    >>> seed_everything(3); a = random.random(); seed_everything(3); a == random.random()
    True
    """
    seed = check_seed("seed", seed)
    random.seed(seed)
    if importlib.util.find_spec("numpy") is not None:
        import numpy as np

        # NumPy's global generator takes 32-bit seeds: a larger one goes in as two 32-bit words
        # (a seed below 2**32 is passed as it is, so seed=0 gives the usual stream).
        np.random.seed(seed if seed < 2**32 else [seed & 0xFFFFFFFF, seed >> 32])
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)


def setup_notebook(seed: int = 0, *, offline: bool = True, num_threads: int | None = 2,
                   language: str = "en") -> None:
    """Prepare a notebook kernel: seeds, offline mode, fixed threads, quiet libraries, language.

    Args:
        seed: seed for `random`, NumPy and PyTorch (an int from 0 to 2**64 - 1).
        offline: set the Hugging Face offline variables, so nothing reaches for the network
            (and a missing model fails in seconds instead of retrying for a minute).
            Pass False only in a notebook that really loads from the hub when it can.
        num_threads: PyTorch CPU threads (1 to MAX_THREADS); a fixed number keeps float
            results identical between machines. None leaves PyTorch's default.
        language: "en" or "zh", the language of exercise feedback, progress bars and the
            errors the course raises (`course_utils.language`); the Chinese edition passes "zh".

    Every argument is checked before anything changes. Prints nothing and returns None, so a
    notebook's outputs are the same on every machine.
    """
    seed = check_seed("seed", seed)
    offline = check_bool("offline", offline)
    num_threads = check_int("num_threads", num_threads, minimum=1, maximum=MAX_THREADS,
                            optional=True, fix="e.g. num_threads=2, or None for PyTorch's default")
    language = check_choice("language", check_str("language", language), LANGUAGES)
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    if offline:
        os.environ.update(_OFFLINE_ENV)

    if importlib.util.find_spec("ipywidgets") is None:
        # Without ipywidgets, tqdm.auto in a kernel warns "IProgress not found" with the
        # install path in the message, then draws text bars; `make check` reports the package.
        warnings.filterwarnings("ignore", message="IProgress not found")

    set_language(language)
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
