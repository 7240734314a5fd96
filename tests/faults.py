"""Fault injection for the save tests: kill a child process in the middle of a save.

A save is safe when a kill at *any* instant leaves the old or the new file, complete. Two ways
to pick the instant, both with SIGKILL (no cleanup code runs, as in a power cut or the OOM killer):

- `run_killed_at(script, call, nth, when)`: kill just before or just after the nth call of a
  file-system function (`os.replace`, `os.rename`, `os.unlink`, `os.fsync`, `os.open`, ...),
  e.g. exactly between the two renames of a save;
- `run_killed_after(script, seconds)`: kill after a delay, while `script` saves in a loop.

`count_calls(script)` says how many calls of each function a save makes, so a test can try
every instant. Scripts run with this repository's `course_utils`, each in a process of its own.

Each script runs in a child forked from a server process that has imported the heavy libraries
(torch, safetensors, numpy, regex) once: a fresh interpreter would spend a few seconds importing
torch for every kill, and the kill tests kill a hundred children. The child is still a process of
its own that dies by SIGKILL mid-write; nothing of `course_utils` is imported before the fork, so
the watch on the os functions is in place before any of the course's code is loaded, as in a
fresh interpreter. Where fork is not safe with torch loaded (macOS), each script gets a fresh
interpreter instead.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("replace", "rename", "unlink", "fsync", "open", "mkdir", "rmdir")
# Imported once by the server; the course's own modules are imported by each child (see above).
PRELOAD = ("torch", "safetensors.torch", "numpy", "regex")

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

# The server: reads one JSON request a line ({"code", "kill_after", "timeout"}), forks a child
# that runs the code, waits for it (killing it with SIGKILL after `kill_after` seconds, if
# given), and answers one JSON line: the child's exit code (-9 if killed), stdout and stderr.
_SERVER = r"""
import io, json, os, signal, sys, tempfile, time, traceback

for name in json.loads(sys.argv[1]):
    __import__(name)
assert not any(m.split(".")[0] == "course_utils" for m in sys.modules), "imported before the fork"
replies, sys.stdout = sys.stdout, sys.stderr  # nothing but replies goes to the test


def child(code, out, err):
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
        exec(compile(code, "<script>", "exec"), {"__name__": "__main__"})
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # no clean-up of the server's state: it is the server's


for line in iter(sys.stdin.readline, ""):
    request = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        replies.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            child(request["code"], out, err)
        kill_at = start + (request["kill_after"] if request["kill_after"] is not None else 1e9)
        deadline, timed_out = start + request["timeout"], False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            now = time.monotonic()
            if now >= kill_at or now >= deadline:
                timed_out = now >= deadline and now < kill_at
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.001)
        out.seek(0)
        err.seek(0)
        reply = {"returncode": os.waitstatus_to_exitcode(status), "timed_out": timed_out,
                 "stdout": out.read().decode(errors="replace"),
                 "stderr": err.read().decode(errors="replace")}
    replies.write(json.dumps(reply) + "\n")
    replies.flush()
"""


def _env() -> dict[str, str]:
    # One torch thread: the saves do no arithmetic that depends on threads, and two threads
    # per child only wait on each other when the test machine is busy.
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TQDM_DISABLE="1", HF_HUB_OFFLINE="1",
               OMP_NUM_THREADS="1")
    env.pop("COVERAGE_PROCESS_START", None)
    return env


class _ForkServer:
    """One server per test process, started at the first script; scripts run one at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def run(self, code: str, kill_after: float | None, timeout: float) -> tuple[int, str, str]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-c", _SERVER, json.dumps(PRELOAD)], env=_env(),
                    cwd=REPO_ROOT, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                atexit.register(self.close)
            request = {"code": code, "kill_after": kill_after, "timeout": timeout}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server stopped (exit code {self._process.poll()})")
        reply = json.loads(line)
        if reply["timed_out"]:
            raise subprocess.TimeoutExpired(["<script>"], timeout, reply["stdout"],
                                            reply["stderr"])
        return reply["returncode"], reply["stdout"], reply["stderr"]

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=30)


_SERVER_PROCESS = _ForkServer()
_FORK = sys.platform == "linux"  # macOS: fork after importing torch is not safe


def _run(code: str, timeout: float, kill_after: float | None = None) -> tuple[int, str, str]:
    """Run `code` in a process of its own; kill it after `kill_after` s if it still runs.
    Return (exit code, stdout, stderr)."""
    if _FORK:
        return _SERVER_PROCESS.run(code, kill_after, timeout)
    process = subprocess.Popen([sys.executable, "-c", code], env=_env(), cwd=REPO_ROOT,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = process.communicate(timeout=kill_after if kill_after else timeout)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            process.kill()
            process.communicate()
            raise
        process.send_signal(signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def count_calls(script: str, timeout: float = 120) -> dict[str, int]:
    """Run `script` to the end; return how often it called each watched os function."""
    watch = "".join(f"_watch({name!r}, 0, 'never')\n" for name in WATCHED)
    code = _PATCH + watch + script + "\nprint('COUNTS=' + json.dumps(_counts))\n"
    returncode, stdout, stderr = _run(code, timeout)
    if returncode != 0:
        raise RuntimeError(f"the script failed:\n{stderr}")
    line = next(line for line in stdout.splitlines() if line.startswith("COUNTS="))
    return json.loads(line.removeprefix("COUNTS="))


def run_killed_at(script: str, call: str, nth: int, when: str = "before",
                  timeout: float = 120) -> int:
    """Run `script`, killing it just `when` ("before"/"after") its nth call of os.`call`;
    return the exit code (-SIGKILL if it was killed, 0 if it never reached that call)."""
    if call not in WATCHED or when not in ("before", "after"):
        raise ValueError(f"call must be one of {WATCHED} and when 'before' or 'after'")
    code = _PATCH + f"_watch({call!r}, {nth}, {when!r})\n" + script
    returncode, _, stderr = _run(code, timeout)
    if returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the script failed:\n{stderr}")
    return returncode


def run_killed_after(script: str, seconds: float, timeout: float = 120) -> int:
    """Start `script`, kill it with SIGKILL after `seconds`; return its exit code."""
    returncode, _, stderr = _run(script, timeout, kill_after=seconds)
    if returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the script failed:\n{stderr}")
    return returncode


def wait_until_exists(path: Path, timeout: float = 60) -> None:
    """Wait until `path` exists (e.g. the first save of a child process is done)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.01)
