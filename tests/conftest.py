"""Shared test fixtures. Tests never use the network and write only under tmp_path."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Belt and braces: `make test` sets these too, but a bare `pytest` must also stay offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
# One torch thread in every test process and the processes they start (notebook kernels set
# their own two): `make test` runs two workers on two cores, and a second thread per process
# only makes threads wait on each other (see one_thread below). Set before torch is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Threads that wait sleep instead of spinning: two notebook kernels of two threads each share the
# two cores, and spinning threads take the cores from the threads with work (measured: two such
# processes side by side ran a matmul loop 3.5 s each spinning, 1.2 s each sleeping).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one torch thread (modules use it with pytestmark). The course's test models
    are small: a second thread gains nothing, and when another process keeps the CPU busy,
    torch's threads wait on each other and a test takes 20-100x longer."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def smollm2_loaded() -> dict:
    """SmolLM2-135M loaded once per test process (20-30 s, ~540 MB), shared by every module that
    uses it: {"model", "tokenizer", "printed": (stdout, stderr) of the load, "seconds"}.
    Tests only read the model (eval mode, no_grad); none may change it."""
    import time

    from course_utils.pretrained import load_smollm2

    with _captured() as printed:
        start = time.perf_counter()
        model, tokenizer = load_smollm2()
        seconds = time.perf_counter() - start
    return {"model": model, "tokenizer": tokenizer, "printed": tuple(printed),
            "seconds": seconds}


@contextlib.contextmanager
def _captured() -> Iterator[list[str]]:
    """Capture what is written to stdout and stderr, by Python and below it (file descriptors
    1 and 2), as capfd does; a session fixture cannot use capfd. Yields [stdout, stderr],
    filled in on exit."""
    printed: list[str] = []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        streams = sys.stdout, sys.stderr
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
        try:
            yield printed
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = streams
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            for file in (out, err):
                file.seek(0)
                printed.append(file.read().decode(errors="replace"))


def pytest_configure(config):
    # Hypothesis keeps example caches in ./.hypothesis; tests write only to temporary places.
    from hypothesis import configuration

    configuration.set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-"))


def _mount(args: list[str], target: Path) -> None:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and `mount` (run the tests as root to include it)")
    result = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """small_disk(size_bytes) -> the path of a fresh tmpfs of that size (root only; else skip).

    Writing more than fits fails with ENOSPC, as on a full disk."""
    mounted: list[Path] = []

    def make(size_bytes: int) -> Path:
        target = tmp_path / f"disk-{len(mounted)}"
        target.mkdir()
        _mount(["-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs"], target)
        mounted.append(target)
        return target

    yield make
    for target in mounted:
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """read_only(folder) -> a read-only view of `folder` (a bind mount; root only; else skip)."""
    mounted: list[Path] = []

    def make(folder: Path) -> Path:
        target = tmp_path / f"read-only-{len(mounted)}"
        target.mkdir()
        _mount(["--bind", str(folder)], target)
        mounted.append(target)
        _mount(["-o", "remount,bind,ro"], target)
        return target

    yield make
    for target in reversed(mounted):
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def notebook_bars(monkeypatch: pytest.MonkeyPatch) -> list:
    """Make tqdm.auto draw JupyterLab's widget bars, as in a notebook; collect every bar made."""
    notebook = pytest.importorskip("tqdm.notebook")
    bars = []

    class Recorded(notebook.tqdm):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr("tqdm.auto.tqdm", Recorded)
    return bars
