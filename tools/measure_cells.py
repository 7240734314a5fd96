"""Measure how long every cell of the course's notebooks takes to run, for the lesson plans.

    python tools/measure_cells.py                      # all five English notebooks
    python tools/measure_cells.py 01_tokenization      # one (others keep their timings)

Each notebook is executed top to bottom in a fresh kernel (nbclient, the course's kernel,
offline, progress bars off) from its own folder; nothing is written to the notebook. Each code
cell's run time is the kernel's reply time minus the time it received the cell (nbclient's
`metadata.execution` timestamps). The results go to instructors/timings.json with the machine's
description and the hash of each cell's source, so tools/lesson_plans.py can tell when a
notebook has changed since it was measured. The Chinese edition runs the same code (a test
checks it), so its plans use these timings.

Measure on an otherwise idle machine: the numbers are meant as what a class sees on a laptop.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

# A cell's hash (16 hex digits of the SHA-256 of its type and source) is the one the Chinese
# edition records for its English cells.
from translation import cell_hash  # noqa: E402  (tools/ is on sys.path: this script's folder)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
TIMINGS = REPO / "instructors" / "timings.json"
LESSONS = ("01_tokenization", "02_ngrams_vs_transformers", "03_attention_math",
           "04_sgd_training", "05_gpt2_generation")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TQDM_DISABLE": "1", "LLM_TOKENS_LANGUAGE": "en"}


def _seconds(execution: dict) -> float:
    start = datetime.fromisoformat(execution["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(execution["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def measure(name: str) -> dict:
    """Execute notebooks/<name>.ipynb once and return its cells' run times."""
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="llm-tokens", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells = [{"index": i, "hash": cell_hash(cell),
              "seconds": round(_seconds(cell["metadata"]["execution"]), 2)}
             for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    return {"cells": cells, "code_seconds": round(sum(c["seconds"] for c in cells), 1),
            "wall_seconds": round(wall, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                        help=f"notebook names (default: all of {', '.join(LESSONS)})")
    args = parser.parse_args(argv)
    for name in args.notebooks:
        if name not in LESSONS:
            parser.error(f"unknown notebook {name!r}: choose from {', '.join(LESSONS)}")
    os.environ.update(OFFLINE)
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {"notebooks": {}}
    for name in args.notebooks or LESSONS:
        result = measure(name)
        print(f"{name}: {result['code_seconds']:.0f} s in cells, {result['wall_seconds']:.0f} s "
              "with kernel start", flush=True)
        timings["notebooks"][name] = {**result, "measured": datetime.now(timezone.utc)
                                      .strftime("%Y-%m-%d %H:%M UTC")}
    timings["machine"] = (f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                          f"Python {platform.python_version()}")
    timings["notebooks"] = dict(sorted(timings["notebooks"].items()))
    TIMINGS.parent.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps(timings, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
