"""Run one submitted notebook for the grader, and log every cell as it goes.

`course_utils.grade` starts this module once per submission, in a subprocess of its own:

    python -m course_utils.grade_run NOTEBOOK EVENTS --cell-timeout 300 --max-output 1000000

It executes the notebook (a copy, in a folder of its own) cell by cell in a fresh kernel of the
interpreter running it — the course's Python, whatever kernel the notebook names — and goes on
after a cell that raises. Each cell is logged to EVENTS as one JSON line, flushed at once, so
that the grader knows where the run stopped even when it has to kill it:

- {"event": "kernel", "pid": …}: the kernel's process, which the grader kills with the run;
- {"event": "start", "cell": i} and {"event": "end", "cell": i, "error": "NameError" or null,
  "offset": bytes of the results file so far, "marks": the check lines the cell printed};
- {"event": "timeout", "cell": i}: the cell ran past --cell-timeout and was interrupted;
- {"event": "cut", "cell": i}: it printed more than --max-output bytes; the rest was dropped and
  the kernel interrupted;
- {"event": "dead", "cell": i}: the kernel died; the run stops there;
- {"event": "done"}: every cell ran.

The executed notebook (with its stored output capped) is written to --save when given.

What it leaves out: a limit for the whole notebook, which a cell that ignores interrupts would
outlast. The grader enforces it from outside, by killing this process, the kernel and their
children. It also leaves out any sandbox: the notebook runs with this process's rights.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

MARK_CHARS = "✓✗…⚠"  # the first character of every line a check prints (feedback.MARKS)
MAX_MARKS = 200  # check lines kept per cell
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error", "update_display_data"}


def output_bytes(msg: dict[str, Any]) -> int:
    """How many bytes an output message would add to the notebook (its text and data).

    >>> output_bytes({"msg_type": "stream", "content": {"name": "stdout", "text": "héllo"}})
    6
    """
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(str(content.get("text", "")).encode("utf-8", "replace"))
    if msg.get("msg_type") == "error":
        return sum(len(line) for line in content.get("traceback", []))
    return sum(len(str(value)) for value in (content.get("data") or {}).values())


class _Log:
    """The events file: one JSON line per event, flushed at once."""

    def __init__(self, file: TextIO) -> None:
        self.file = file

    def __call__(self, event: str, **fields: Any) -> None:
        self.file.write(json.dumps({"event": event, **fields}) + "\n")
        self.file.flush()


def _client_class() -> type:
    """NotebookClient, made to count and cap output and to log timeouts (imported lazily)."""
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, log_event: _Log, max_output: int, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.log_event, self.max_output = log_event, max_output
            self.stored, self.kernel_pid = 0, 0  # bytes of output kept in the notebook
            self.new_cell(-1)

        def new_cell(self, index: int) -> None:
            self.cell_index, self.cell_bytes, self.cut, self.timed_out = index, 0, False, False
            self.error: str | None = None
            self.marks: list[str] = []
            self.tail = ""  # the part of the last stream line still unfinished

        def scan(self, text: str) -> None:
            """Keep the lines that look like a check's line, even from output not stored."""
            lines = (self.tail + text).split("\n")
            self.tail = lines.pop() if text else ""  # scan(""), at the end: the last line too
            if len(self.tail) > 2000:  # far longer than a check's line: not one
                self.tail = "-"
            for line in lines:
                if line[:1] in MARK_CHARS and line and len(self.marks) < MAX_MARKS:
                    self.marks.append(line)

        def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                self.scan(str(content.get("text", "")))
            if kind == "error":
                self.error = str(content.get("ename", "error"))[:100]
            if kind in OUTPUT_TYPES:
                size = output_bytes(msg)
                self.cell_bytes += size
                if self.cell_bytes > self.max_output:
                    if self.cut:
                        return None  # seen and counted, not stored
                    self.cut = True  # log it once, and stop the cell
                    self.log_event("cut", cell=cell_index)
                    self.interrupt()
                    keep = self.max_output - (self.cell_bytes - size)
                    if kind != "stream" or keep <= 0:
                        return None
                    # one stream message may hold a lot (the kernel batches prints): keep its head
                    text = str(content.get("text", "")).encode()[:keep].decode("utf-8", "ignore")
                    msg = {**msg, "content": {**content, "text": text + "\n[…]\n"}}
                    size = keep
                if self.stored + size > 10 * self.max_output:
                    return None  # the notebook as a whole keeps 10 cells' worth, no more
                self.stored += size
            return super().process_message(msg, cell, cell_index)

        def interrupt(self) -> None:
            try:
                if self.kernel_pid > 0:  # never 0: os.kill(0, …) signals this process group
                    os.kill(self.kernel_pid, signal.SIGINT)
            except (OSError, ValueError):  # the kernel is gone already
                pass

        async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
            if not self.timed_out:  # a cell that ignores interrupts times out again and again
                self.timed_out = True
                self.log_event("timeout", cell=self.cell_index)
            return await super()._async_handle_timeout(timeout, cell)

    return GradingClient


def _kernel_manager() -> Any:
    """A kernel manager whose every kernel is this interpreter's ipykernel."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class CurrentPython(KernelSpecManager):  # type: ignore[misc]
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=CurrentPython())


def run_notebook(notebook: Path, events: TextIO, *, cell_timeout: float, max_output: int,
                 results: Path | None = None, save: Path | None = None) -> None:
    """Execute `notebook` in its folder, logging each cell's events to `events`."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    log = _Log(events)
    nb = nbformat.read(notebook, as_version=4)
    client = _client_class()(
        nb, km=_kernel_manager(), timeout=max(1, round(cell_timeout)), allow_errors=True,
        interrupt_on_timeout=True, record_timing=False, startup_timeout=120,
        resources={"metadata": {"path": str(notebook.parent)}},
        log_event=log, max_output=max_output)
    try:
        with client.setup_kernel(cleanup_kc=True):
            provisioner = getattr(client.km, "provisioner", None)
            client.kernel_pid = int(getattr(provisioner, "pid", 0) or 0)
            log("kernel", pid=client.kernel_pid)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                client.new_cell(index)
                log("start", cell=index)
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    log("dead", cell=index)
                    return
                finally:
                    client.scan("")  # the last line, if it had no newline
                offset = results.stat().st_size if results and results.exists() else 0
                log("end", cell=index, error=client.error, offset=offset, marks=client.marks)
            log("done")
    finally:
        if save is not None:
            try:
                nbformat.write(nb, save)
            except Exception as error:  # an output nbformat refuses: the grades still stand
                log("unsaved", error=f"{type(error).__name__}: {error}"[:300])


def main(argv: list[str] | None = None) -> int:
    """The command line: run one notebook, log to a file; the exit code says if it finished."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.grade_run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--cell-timeout", type=float, default=300)
    parser.add_argument("--max-output", type=int, default=1_000_000)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)
    results = os.environ.get("LLM_TOKENS_GRADING_RESULTS")
    started = time.monotonic()
    with open(args.events, "a", encoding="utf-8") as events:
        run_notebook(args.notebook.resolve(), events, cell_timeout=args.cell_timeout,
                     max_output=args.max_output, results=Path(results) if results else None,
                     save=args.save)
        _Log(events)("seconds", seconds=round(time.monotonic() - started, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
