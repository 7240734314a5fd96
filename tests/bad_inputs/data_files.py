"""Bad inputs for the course's infrastructure: data, files, argument checks, plots, progress."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bad_inputs import bad

from course_utils import data, files, plotting, progress, validation

_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
_A_FILE = _FOLDER / "a-file.txt"
_A_FILE.write_text("not a folder")
_FIFO = _FOLDER / "pipe"
if hasattr(os, "mkfifo"):
    os.mkfifo(_FIFO)


def _tensor(device: str) -> object:
    import torch

    return torch.zeros(2, device=device)


_META, _CPU = _tensor("meta"), _tensor("cpu")


def _in_broken_data(change: Callable[[Path], object], call: Callable[[], object]) -> object:
    """call() with DATA_DIR a fresh folder holding shakespeare/val.txt, a reference model and
    their SHA256SUMS, after change(folder) broke something in it."""
    folder = Path(tempfile.mkdtemp(prefix="bad-inputs-data-"))
    sha256 = hashlib.sha256(b"x\n").hexdigest()
    for sums, name in (("SHA256SUMS", "shakespeare/val.txt"),
                       ("reference_model/SHA256SUMS", "model.safetensors")):
        path = (folder / sums).parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x\n")
        (folder / sums).write_text(f"{sha256}  {name}\n")
    change(folder)
    real, data.DATA_DIR = data.DATA_DIR, folder
    try:
        return call()
    finally:
        data.DATA_DIR = real
        shutil.rmtree(folder)


def _replace(path: Path, by: str) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    os.mkfifo(path) if by == "pipe" else path.mkdir() if by == "folder" else path.write_text("x")


def _val(change: Callable[[Path], object]) -> Callable[[], object]:
    return lambda: _in_broken_data(change, lambda: data.load_corpus("shakespeare", "val"))


def _model(change: Callable[[Path], object]) -> Callable[[], object]:
    return lambda: _in_broken_data(change, data.reference_model_path)


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
    bad("write_atomically(data=5)", lambda: files.write_atomically(_FOLDER / "f", 5), TypeError,
        "data", "5"),
    bad("write_atomically(data=None)", lambda: files.write_atomically(_FOLDER / "f", None),
        TypeError, "data"),
    bad("write_atomically(lone surrogate)",
        lambda: files.write_atomically(_FOLDER / "f", "a\ud800"), ValueError, "data"),
    bad("write_atomically(path=None)", lambda: files.write_atomically(None, b"x"), TypeError,
        "path"),
    bad("write_atomically(path='')", lambda: files.write_atomically("", b"x"), TypeError, "path"),
    bad("write_atomically(path=folder/..)",
        lambda: files.write_atomically(_FOLDER / "..", b"x"), ValueError, "path"),
    bad("tidy_partial_files(None)", lambda: files.tidy_partial_files(None), TypeError, "folder"),
    bad("sha256_file(a pipe)", lambda: files.sha256_file(_FIFO), OSError, "pipe",
        "not a regular file"),
    bad("sha256_file(a folder)", lambda: files.sha256_file(_FOLDER), OSError, str(_FOLDER)),
    bad("check_number(10**400)", lambda: validation.check_number("lr", 10**400), ValueError,
        "lr"),
    bad("check_device(meta)", lambda: validation.check_device("device", "meta"), ValueError,
        "device", "meta"),
    bad("check_tensor(meta)", lambda: validation.check_tensor("x", _META), ValueError, "x",
        "meta"),
    bad("check_same_device", lambda: validation.check_same_device(q=_CPU, k=_META), ValueError,
        "q and k", "meta"),
    bad("check_memory", lambda: validation.check_memory("a table", 2**80, fix="use less"),
        MemoryError, "a table", "use less"),
    bad("progress_bar(total=-1)", lambda: _bar(-1), ValueError, "total"),
    bad("progress_bar(total=1.5)", lambda: _bar(1.5), TypeError, "total"),
    bad("load_corpus(a pipe for the file)",
        _val(lambda d: _replace(d / "shakespeare" / "val.txt", "pipe")), OSError,
        "shakespeare/val.txt is a named pipe", "move or remove it", "make data"),
    bad("load_corpus(a folder for the file)",
        _val(lambda d: _replace(d / "shakespeare" / "val.txt", "folder")), OSError,
        "val.txt is a folder where a file should be", "git checkout -- data/", "make data"),
    bad("load_corpus(a file for the folder)", _val(lambda d: _replace(d / "shakespeare", "file")),
        OSError, "data-", "shakespeare is a file where a folder should be", "make data"),
    bad("load_corpus(binary SHA256SUMS)",
        _val(lambda d: (d / "SHA256SUMS").write_bytes(b"\xb9\x00\xff")), ValueError,
        "SHA256SUMS is not a text file", "0xb9", "make data"),
    bad("load_corpus(blank SHA256SUMS)", _val(lambda d: (d / "SHA256SUMS").write_text(" \n")),
        ValueError, "SHA256SUMS", "malformed line", "make data"),
    bad("load_corpus(SHA256SUMS listing ../x)",
        _val(lambda d: (d / "SHA256SUMS").write_text(f"{'0' * 64}  ../x\n")), ValueError,
        "SHA256SUMS: malformed line", "../x"),
    bad("load_corpus(a pipe for SHA256SUMS)", _val(lambda d: _replace(d / "SHA256SUMS", "pipe")),
        OSError, "SHA256SUMS is a named pipe", "make data"),
    bad("reference_model_path(a file for the folder)",
        _model(lambda d: _replace(d / "reference_model", "file")), OSError,
        "reference_model is a file where a folder should be", "train_reference.py"),
    bad("reference_model_path(an entry naming a folder)",
        _model(lambda d: _replace(d / "reference_model" / "model.safetensors", "folder")),
        OSError, "model.safetensors is a folder", "git checkout -- data/reference_model"),
    bad("reference_model_path(empty SHA256SUMS)",
        _model(lambda d: (d / "reference_model" / "SHA256SUMS").write_text("")), ValueError,
        "reference_model/SHA256SUMS lists no files", "train_reference.py"),
    bad("reference_model_path(a pipe for the weights)",
        _model(lambda d: _replace(d / "reference_model" / "model.safetensors", "pipe")),
        OSError, "model.safetensors is a named pipe", "train_reference.py"),
]

if os.name == "nt":  # pragma: no cover - the course runs on Linux and macOS
    CASES = [case for case in CASES if "folder" not in case.id and "pipe" not in case.id]
