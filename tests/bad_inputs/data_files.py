"""Bad inputs for the course's infrastructure: data, files, argument checks, plots, progress."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bad_inputs import bad

from course_utils import data, files, plotting, progress, validation

_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
_A_FILE = _FOLDER / "a-file.txt"
_A_FILE.write_text("not a folder")


def _bar(total: object) -> None:
    with progress.progress_bar(total, "x", enabled=True):
        pass


CASES = [
    bad("load_corpus(name=1)", lambda: data.load_corpus(1), TypeError, "name", "1"),
    bad("load_corpus(name=None)", lambda: data.load_corpus(None), TypeError, "name", "None"),
    bad("load_corpus(name=typo)", lambda: data.load_corpus("shakespear"), ValueError, "name",
        "'shakespeare'"),
    bad("load_corpus(split=test)", lambda: data.load_corpus("shakespeare", "test"), ValueError,
        "split", "'val'"),
    bad("load_corpus(split=bytes)", lambda: data.load_corpus("shakespeare", b"val"), TypeError,
        "split"),
    bad("load_corpus(split=list)", lambda: data.load_corpus("poetry_zh", ["val"]), TypeError,
        "split"),
    bad("corpus_path(name=Path)", lambda: data.corpus_path(Path("shakespeare")), TypeError,
        "name"),
    bad("corpus_path(split=upper)", lambda: data.corpus_path("poetry_zh", "VAL"), ValueError,
        "split", "'VAL'"),
    bad("write_atomically(missing folder)",
        lambda: files.write_atomically(_FOLDER / "no" / "such" / "f.txt", b"x"), OSError,
        "no/such/f.txt"),
    bad("write_atomically(over a folder)", lambda: files.write_atomically(_FOLDER, b"x"),
        OSError, str(_FOLDER)),
    bad("check_writable_folder(a file)", lambda: files.check_writable_folder(_A_FILE), OSError,
        "a-file.txt", "is a file"),
    bad("check_writable_folder(under a file)",
        lambda: files.check_writable_folder(_A_FILE / "sub"), OSError, "a-file.txt"),
    bad("sha256_file(missing)", lambda: files.sha256_file(_FOLDER / "missing"), OSError,
        "missing"),
    bad("check_int(bool)", lambda: validation.check_int("n", True), TypeError, "n", "bool"),
    bad("check_int(float)", lambda: validation.check_int("n", 2.0), TypeError, "n", "2.0"),
    bad("check_int(range)", lambda: validation.check_int("n", 0, minimum=1), ValueError, "n",
        ">= 1"),
    bad("check_number(nan)", lambda: validation.check_number("lr", float("nan")), ValueError,
        "lr", "nan"),
    bad("check_number(inf)", lambda: validation.check_number("lr", float("inf")), ValueError,
        "lr", "inf"),
    bad("check_number(str)", lambda: validation.check_number("lr", "1e-3"), TypeError, "lr"),
    bad("check_seed(huge)", lambda: validation.check_seed("seed", 2**70), ValueError, "seed"),
    bad("check_seed(negative)", lambda: validation.check_seed("seed", -1), ValueError, "seed"),
    bad("check_device(gpu)", lambda: validation.check_device("device", "gpu"), ValueError,
        "device", "'gpu'"),
    bad("check_device(int)", lambda: validation.check_device("device", 3.5), TypeError,
        "device"),
    bad("check_path(bytes)", lambda: validation.check_path("directory", b"x"), TypeError,
        "directory"),
    bad("check_path(empty)", lambda: validation.check_path("directory", ""), TypeError,
        "directory"),
    bad("safe_text(bytes)", lambda: plotting.safe_text(b"abc"), TypeError, "text"),
    bad("zh_label(None)", lambda: plotting.zh_label(None, "x"), TypeError, "chinese"),
    bad("progress_bar(total=-1)", lambda: _bar(-1), ValueError, "total"),
    bad("progress_bar(total=1.5)", lambda: _bar(1.5), TypeError, "total"),
]

if os.name == "nt":  # pragma: no cover - the course runs on Linux and macOS
    CASES = [case for case in CASES if "folder" not in case.id]
