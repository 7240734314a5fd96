"""Benchmark the course's n-gram model: a modified-Kneser-Ney character 7-gram on Shakespeare.

Fits `NGramLM(7, "modified_kneser_ney")` on the Shakespeare train split (seven plays, 1.0 MB) and
scores held-out Macbeth (103 KB), timing both. Then it scores Macbeth again with a second
implementation of Chen & Goodman's interpolated modified Kneser-Ney, written below from the
formulas with plain dicts keyed by substrings, and compares the two cross-entropies. Bits per
byte put the result next to the course's reference Transformer on the same text. A sweep over
orders 5 to 8 shows where more context stops paying.

    python benchmarks/ngrams.py

It prints PASS/FAIL against the targets but always exits 0: timings depend on the machine and on
whatever else runs on it (the load average is printed).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter

from course_utils.data import load_corpus, reference_model_path
from course_utils.ngrams import FALLBACK_DISCOUNTS, NGramLM
from course_utils.training import bits_per_byte

ORDER = 7
SWEEP = (5, 6, 7, 8)
TARGET_SECONDS = 30.0  # fit + evaluate the 7-gram, on 2 CPU cores
TARGET_DIFF = 0.01     # |course - reference| cross-entropy, nats per character


def reference_cross_entropy(train: str, val: str, order: int) -> float:
    """Nats per character of interpolated modified Kneser-Ney on `val`, written out once more.

    Same conventions as NGramLM, by a different route: counts of substrings (not tuples), the
    context statistics in flat dicts, and every level visited at every position.
    """
    vocab_size = len(set(train) | set(val))
    # occurrences[n][s]: how often the n-character string s occurs in train
    occurrences = {n: Counter(train[i:i + n] for i in range(len(train) - n + 1))
                   for n in range(1, order + 1)}
    counts, stats, discounts = {}, {}, {}
    for n in range(1, order + 1):
        if n == order:
            counts[n] = occurrences[n]
        else:  # continuation count: how many distinct characters come just before s
            counts[n] = Counter(s[1:] for s in occurrences[n + 1])
        nr = Counter(counts[n].values())
        n1, n2, n3, n4 = nr[1], nr[2], nr[3], nr[4]
        d = FALLBACK_DISCOUNTS
        if n1 and n2 and n3:
            y = n1 / (n1 + 2 * n2)
            d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
            if not (0 < d[0] <= 1 and 0 < d[1] <= 2 and 0 < d[2] <= 3):
                d = FALLBACK_DISCOUNTS
        discounts[n] = d
        # stats[n][context] = [total, N1, N2, N3+] over the characters that follow it
        stats[n] = {}
        for s, c in counts[n].items():
            row = stats[n].setdefault(s[:-1], [0, 0, 0, 0])
            row[0] += c
            row[min(c, 3)] += 1

    nats = 0.0
    for i, char in enumerate(val):
        p = 1.0 / vocab_size
        for n in range(1, min(order, i + 1) + 1):
            context = val[i - n + 1:i]
            row = stats[n].get(context)
            if row is None:
                continue  # an unseen context gives everything to the shorter one
            d1, d2, d3 = discounts[n]
            c = counts[n].get(context + char, 0)
            discount = (0.0, d1, d2, d3)[min(c, 3)]
            gamma = (d1 * row[1] + d2 * row[2] + d3 * row[3]) / row[0]
            p = max(c - discount, 0.0) / row[0] + gamma * p
        nats -= math.log(p)
    return nats / len(val)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    train, val = load_corpus("shakespeare", "train"), load_corpus("shakespeare", "val")
    val_bytes = len(val.encode("utf-8"))
    metrics = json.loads((reference_model_path() / "metrics.json").read_text(encoding="utf-8"))
    transformer_bpb = metrics["val_bits_per_byte"]

    def bpb(nats_per_char: float) -> float:
        return bits_per_byte(nats_per_char, num_tokens=len(val), num_bytes=val_bytes)

    load = os.getloadavg()[0]
    print(f"Shakespeare: train {len(train):,} characters, val (Macbeth) {len(val):,} characters, "
          f"{val_bytes:,} bytes; {os.cpu_count()} CPU cores, load average {load:.2f} at start\n")

    rows = {}
    for order in SWEEP:
        start = time.perf_counter()
        lm = NGramLM(order, "modified_kneser_ney").fit(train, vocab=val)
        fitted = time.perf_counter()
        nats = lm.cross_entropy(val)
        rows[order] = (fitted - start, time.perf_counter() - fitted, nats, lm.num_ngrams)
        del lm
    start = time.perf_counter()
    reference = reference_cross_entropy(train, val, ORDER)
    reference_s = time.perf_counter() - start
    fit_s, eval_s, course, _ = rows[ORDER]

    print(f"Modified Kneser-Ney character {ORDER}-gram, train -> val")
    print(f"  {'':24}{'fit s':>8}{'eval s':>8}{'total s':>9}{'nats/char':>11}{'bits/byte':>11}")
    print(f"  {'course NGramLM':24}{fit_s:8.2f}{eval_s:8.2f}{fit_s + eval_s:9.2f}{course:11.6f}"
          f"{bpb(course):11.3f}")
    print(f"  {'reference (this file)':24}{'':16}{reference_s:9.2f}{reference:11.6f}"
          f"{bpb(reference):11.3f}")
    print(f"  {'reference Transformer':24}{'':25}{'':11}{transformer_bpb:11.3f}  "
          f"(data/reference_model, {metrics['parameters']:,} parameters)\n")

    print("Orders (course NGramLM, modified Kneser-Ney)")
    print(f"  {'order':>5}{'fit s':>8}{'eval s':>8}{'nats/char':>11}{'bits/byte':>11}"
          f"{'n-grams':>12}")
    for order, (fit, evaluate, nats, size) in rows.items():
        print(f"  {order:5d}{fit:8.2f}{evaluate:8.2f}{nats:11.4f}{bpb(nats):11.3f}{size:12,}")

    total, diff = fit_s + eval_s, abs(course - reference)
    print(f"\n  fit + evaluate: {total:5.1f} s     target <= {TARGET_SECONDS:.0f} s     "
          f"{verdict(total <= TARGET_SECONDS)}")
    print(f"  |course - reference|: {diff:.1e} nats/char   target <= {TARGET_DIFF}   "
          f"{verdict(diff <= TARGET_DIFF)}")
    print(f"  load average now {os.getloadavg()[0]:.2f} (other jobs slow the timings down)")


if __name__ == "__main__":
    main()
