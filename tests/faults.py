"""Fault injection for the save tests: kill a child process in the middle of a save.

A save is safe when a kill at *any* instant leaves the old or the new file, complete. Two ways
to pick the instant, both with SIGKILL (no cleanup code runs, as in a power cut or the OOM killer):

- `run_killed_at(script, call, nth, when)`: kill just before or just after the nth call of a
  file-system function (`os.replace`, `os.rename`, `os.unlink`, `os.fsync`, `os.open`, ...),
  e.g. exactly between the two renames of a save;
- `run_killed_after(script, seconds)`: kill after a delay, while `script` saves in a loop.

`count_calls(script)` says how many calls of each function a save makes, so a test can try
every instant. Scripts run with this repository's `course_utils`, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("replace", "rename", "unlink", "fsync", "open", "mkdir", "rmdir")

_PATCH = """
import functools, json, os, signal, sys
_counts = {}
def _watch(name, nth, when):
    original = getattr(os, name)
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == nth
        if hit and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if hit and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(os, name, wrapper)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    env.pop("COVERAGE_PROCESS_START", None)
    return env


def _run(code: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=_env(), cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=timeout)


def count_calls(script: str, timeout: float = 120) -> dict[str, int]:
    """Run `script` to the end; return how often it called each watched os function."""
    watch = "".join(f"_watch({name!r}, 0, 'never')\n" for name in WATCHED)
    code = _PATCH + watch + script + "\nprint('COUNTS=' + json.dumps(_counts))\n"
    result = _run(code, timeout)
    if result.returncode != 0:
        raise RuntimeError(f"the script failed:\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("COUNTS="))
    return json.loads(line.removeprefix("COUNTS="))


def run_killed_at(script: str, call: str, nth: int, when: str = "before",
                  timeout: float = 120) -> int:
    """Run `script`, killing it just `when` ("before"/"after") its nth call of os.`call`;
    return the exit code (-SIGKILL if it was killed, 0 if it never reached that call)."""
    if call not in WATCHED or when not in ("before", "after"):
        raise ValueError(f"call must be one of {WATCHED} and when 'before' or 'after'")
    code = _PATCH + f"_watch({call!r}, {nth}, {when!r})\n" + script
    result = _run(code, timeout)
    if result.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the script failed:\n{result.stderr}")
    return result.returncode


def run_killed_after(script: str, seconds: float, timeout: float = 120) -> int:
    """Start `script`, kill it with SIGKILL after `seconds`; return its exit code."""
    process = subprocess.Popen([sys.executable, "-c", script], env=_env(), cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=timeout)
    if process.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the script failed:\n{stderr}")
    return process.returncode


def wait_until_exists(path: Path, timeout: float = 60) -> None:
    """Wait until `path` exists (e.g. the first save of a child process is done)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.01)
