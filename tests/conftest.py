"""Shared test fixtures. Tests never use the network and write only under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Belt and braces: `make test` sets these too, but a bare `pytest` must also stay offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


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


def pytest_configure(config):
    # Hypothesis keeps example caches in ./.hypothesis; tests write only to temporary places.
    import tempfile

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
