"""Bad inputs for the notebook set-up, the environment doctor and the exercises' settings."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import torch

from bad_inputs import bad

from course_utils import doctor, exercises, setup_notebook
from course_utils.notebook_setup import seed_everything

_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-setup-"))
_RANGE = _FOLDER / "requirements.txt"
_RANGE.write_text("torch==2.13.0\nnumpy>=2\n", encoding="utf-8")
_TWICE = _FOLDER / "twice.txt"
_TWICE.write_text("torch==2.13.0\nnumpy==2.4.6\nTorch==1.0\n", encoding="utf-8")
_EMPTY = _FOLDER / "empty.txt"
_EMPTY.write_text("# nothing pinned\n\n  \n", encoding="utf-8")
_NUL = _FOLDER / "nul.txt"
_NUL.write_bytes(b"torch==2.13.0\x00\n")
_PIPE = _FOLDER / "pipe.txt"
if hasattr(os, "mkfifo"):
    os.mkfifo(_PIPE)


def _changing_nothing(**kwargs: object) -> None:
    """setup_notebook(**kwargs), which must fail before it changes the environment, the
    seeds or the thread count."""
    before = dict(os.environ), random.getstate(), torch.get_num_threads()
    try:
        setup_notebook(**kwargs)
    finally:
        if (dict(os.environ), random.getstate(), torch.get_num_threads()) != before:
            raise AssertionError(f"setup_notebook(**{kwargs}) changed the process, then failed")

CASES = [
    bad("setup_notebook(seed=True)", lambda: setup_notebook(seed=True), TypeError, "seed",
        "bool"),
    bad("setup_notebook(seed=2**70)", lambda: setup_notebook(seed=2**70), ValueError, "seed",
        "2**64 - 1"),
    bad("setup_notebook(seed=-1)", lambda: setup_notebook(seed=-1), ValueError, "seed", "-1"),
    bad("setup_notebook(seed=1.5)", lambda: setup_notebook(seed=1.5), TypeError, "seed", "1.5"),
    bad("setup_notebook(seed='0')", lambda: setup_notebook(seed="0"), TypeError, "seed"),
    bad("setup_notebook(num_threads=0)", lambda: setup_notebook(num_threads=0), ValueError,
        "num_threads", "[1, 1024]"),
    bad("setup_notebook(num_threads=True)", lambda: setup_notebook(num_threads=True),
        TypeError, "num_threads", "bool"),
    bad("setup_notebook(num_threads=2**31)", lambda: _changing_nothing(num_threads=2**31),
        ValueError, "num_threads", "1024", "2147483648"),
    bad("setup_notebook(num_threads=2**70)", lambda: _changing_nothing(num_threads=2**70),
        ValueError, "num_threads", "1024"),
    bad("setup_notebook(seed=0, num_threads=10**6)",
        lambda: _changing_nothing(seed=0, offline=True, num_threads=10**6), ValueError,
        "num_threads"),
    bad("setup_notebook(num_threads=2.5)", lambda: setup_notebook(num_threads=2.5), TypeError,
        "num_threads", "2.5"),
    bad("setup_notebook(offline=1)", lambda: setup_notebook(offline=1), TypeError, "offline",
        "True or False"),
    bad("setup_notebook(offline='yes')", lambda: setup_notebook(offline="yes"), TypeError,
        "offline"),
    bad("setup_notebook(offline=None)", lambda: setup_notebook(offline=None), TypeError,
        "offline"),
    bad("setup_notebook(language='fr')", lambda: _changing_nothing(language="fr"), ValueError,
        "language", "'fr'", "'zh'"),
    bad("setup_notebook(language=None)", lambda: _changing_nothing(language=None), TypeError,
        "language", "None"),
    bad("setup_notebook(language='ZH')", lambda: _changing_nothing(language="ZH"), ValueError,
        "language", "'ZH'"),
    bad("seed_everything(True)", lambda: seed_everything(True), TypeError, "seed"),
    bad("seed_everything(2**64)", lambda: seed_everything(2**64), ValueError, "seed"),
    bad("seed_everything(None)", lambda: seed_everything(None), TypeError, "seed"),
    bad("read_pins(None)", lambda: doctor.read_pins(None), TypeError, "path"),
    bad("read_pins(bytes)", lambda: doctor.read_pins(b"requirements.txt"), TypeError, "path"),
    bad("read_pins(missing)", lambda: doctor.read_pins(_FOLDER / "missing.txt"), OSError,
        "missing.txt", "git checkout"),
    bad("read_pins(folder)", lambda: doctor.read_pins(_FOLDER), OSError, str(_FOLDER),
        "cannot read"),
    bad("read_pins(range)", lambda: doctor.read_pins(_RANGE), ValueError, "line 2",
        "'numpy>=2'", "name==version"),
    bad("read_pins(pinned twice)", lambda: doctor.read_pins(_TWICE), ValueError, "line 3",
        "pins torch again", "line 1 pins 2.13.0", "keep only the tested version"),
    bad("read_pins(no pins)", lambda: doctor.read_pins(_EMPTY), ValueError, "empty.txt",
        "holds no pins", "git checkout"),
    bad("read_pins(NUL byte)", lambda: doctor.read_pins(_NUL), ValueError, "line 1",
        "invisible character '\\x00'", "retype the line"),
    bad("read_pins(a pipe)", lambda: doctor.read_pins(_PIPE), OSError, "pipe.txt",
        "not a regular file", "move or remove it"),
    bad("parse_pins(int)", lambda: doctor.parse_pins(3), TypeError, "path"),
    bad("examine_packages(requirements=None)", lambda: doctor.examine_packages(None),
        TypeError, "requirements"),
    bad("examine_packages(nodeps_requirements=1)",
        lambda: doctor.examine_packages(_RANGE, 1), TypeError, "nodeps_requirements"),
    bad("set_language(fr)", lambda: exercises.set_language("fr"), ValueError, "language",
        "'en'"),
    bad("set_language(None)", lambda: exercises.set_language(None), TypeError, "language"),
]

if os.name == "nt":  # pragma: no cover - the course runs on Linux and macOS
    CASES = [case for case in CASES if "pipe" not in case.id]
