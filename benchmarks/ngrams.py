"""Benchmark the course's n-gram model: a modified-Kneser-Ney character 7-gram on Shakespeare.

Fits `NGramLM(7, "modified_kneser_ney")` on the Shakespeare train split (seven plays, 1.0 MB) and
scores held-out Macbeth (103 KB), timing both, and the memory the fit holds (tracemalloc, a
separate run). Then it scores Macbeth again with the course's independent oracle,
tests/kneser_ney_oracle.py (Chen & Goodman's formulas, sharing no code with NGramLM), and compares
the two cross-entropies. Bits per byte put the result next to the course's reference Transformer
on the same text. A sweep over orders 5 to 8 shows where more context stops paying.

    python benchmarks/ngrams.py

It prints PASS/FAIL against the targets but always exits 0: timings depend on the machine and on
whatever else runs on it (the load average is printed).
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

from timing import best_time, machine, verdict

from course_utils.data import load_corpus, reference_model_path
from course_utils.metrics import bits_per_byte
from course_utils.ngram_counts import BYTES_PER_NGRAM
from course_utils.ngrams import NGramLM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from kneser_ney_oracle import KneserNeyOracle  # noqa: E402  (tests/ is not a package)

ORDER = 7
SWEEP = (5, 6, 7, 8)
TARGET_SECONDS = 30.0  # fit + evaluate the 7-gram, on 2 CPU cores
TARGET_DIFF = 1e-9     # |course - oracle| cross-entropy, nats per character


def main() -> None:
    train, val = load_corpus("shakespeare", "train"), load_corpus("shakespeare", "val")
    val_bytes = len(val.encode("utf-8"))
    metrics = json.loads((reference_model_path() / "metrics.json").read_text(encoding="utf-8"))
    transformer_bpb = metrics["val_bits_per_byte"]

    def bpb(nats_per_char: float) -> float:
        return bits_per_byte(nats_per_char, num_tokens=len(val), num_bytes=val_bytes)

    print(f"Shakespeare: train {len(train):,} characters, val (Macbeth) {len(val):,} characters, "
          f"{val_bytes:,} bytes\n{machine()}\n")

    rows = {}
    for order in SWEEP:
        repeats = 3 if order == ORDER else 1
        fit_s, lm = best_time(lambda: NGramLM(order, "modified_kneser_ney").fit(train, vocab=val),
                              repeats=repeats)
        eval_s, nats = best_time(lambda: lm.cross_entropy(val), repeats=repeats)
        rows[order] = (fit_s, eval_s, nats, lm.num_ngrams)
        del lm
    oracle_s, oracle = best_time(
        lambda: KneserNeyOracle(train, ORDER, modified=True, vocab=val).cross_entropy(val),
        repeats=1)
    fit_s, eval_s, course, num_ngrams = rows[ORDER]

    tracemalloc.start()
    lm = NGramLM(ORDER, "modified_kneser_ney").fit(train, vocab=val)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del lm

    print(f"Modified Kneser-Ney character {ORDER}-gram, train -> val (best of 3)")
    print(f"  {'':24}{'fit s':>8}{'eval s':>8}{'total s':>9}{'nats/char':>11}{'bits/byte':>11}")
    print(f"  {'course NGramLM':24}{fit_s:8.2f}{eval_s:8.2f}{fit_s + eval_s:9.2f}{course:11.6f}"
          f"{bpb(course):11.3f}")
    print(f"  {'oracle (tests/)':24}{'':16}{oracle_s:9.2f}{oracle:11.6f}{bpb(oracle):11.3f}")
    print(f"  {'reference Transformer':24}{'':25}{'':11}{transformer_bpb:11.3f}  "
          f"(data/reference_model, {metrics['parameters']:,} parameters)")
    print(f"  memory of the fit: {held / 2**20:.0f} MiB held, {peak / 2**20:.0f} MiB at the peak, "
          f"{peak / num_ngrams:.0f} bytes per n-gram (the memory guard assumes "
          f"{BYTES_PER_NGRAM})\n")

    print("Orders (course NGramLM, modified Kneser-Ney)")
    print(f"  {'order':>5}{'fit s':>8}{'eval s':>8}{'nats/char':>11}{'bits/byte':>11}"
          f"{'n-grams':>12}")
    for order, (fit, evaluate, nats, size) in rows.items():
        print(f"  {order:5d}{fit:8.2f}{evaluate:8.2f}{nats:11.4f}{bpb(nats):11.3f}{size:12,}")

    total, diff = fit_s + eval_s, abs(course - oracle)
    print(f"\n  fit + evaluate: {total:5.1f} s     target <= {TARGET_SECONDS:.0f} s     "
          f"{verdict(total <= TARGET_SECONDS)}")
    print(f"  |course - oracle|: {diff:.1e} nats/char   target <= {TARGET_DIFF:g}   "
          f"{verdict(diff <= TARGET_DIFF)}")
    per_ngram = peak / num_ngrams
    print(f"  bytes per n-gram at the peak: {per_ngram:.0f}   target <= {BYTES_PER_NGRAM} (the "
          f"guard's estimate)   {verdict(per_ngram <= BYTES_PER_NGRAM)}")
    print(f"  {machine()} (other jobs slow the timings down)")


if __name__ == "__main__":
    main()
