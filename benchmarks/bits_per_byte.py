"""Bits per byte of every model in notebook 02's comparison, on the whole held-out texts.

Notebook 02 (section 8) scores SmolLM2-135M on a fixed slice of each held-out text (the first
4,000 characters of Macbeth, the first 600 of the poems: 2,463 SmolLM2 tokens), because the whole
texts hold 133,605 SmolLM2 tokens, about 50 times as many: tens of minutes on two CPU cores. This
script scores every model of the notebook's table on the whole texts — held-out Macbeth (103 KB)
and the poems' validation split (宋词, 145 KB) — with the same settings as the notebook:

- uniform: every character of the training text (and `<unk>`) equally likely, a new character
  spelled out in UTF-8 at 8 bits a byte (as `open_vocabulary_bits` does);
- the best n-gram: the modified-Kneser-Ney character 7-gram (the model notebook 02 chooses on
  development text for both languages), fitted on the training split, scored with
  `open_vocabulary_bits`;
- the course GPT: the reference model (data/reference_model, Shakespeare only, so Macbeth only),
  `text_loss` in windows of 128 tokens sliding by 64;
- SmolLM2-135M: `text_loss` in windows of 512 tokens sliding by 448 (every token after the first
  window sees at least 64 tokens of context, as the course GPT's do; each token costs 512 / 448
  = 1.14 token-forwards).

It prints each model's bits per byte, SmolLM2's tokens per character, and SmolLM2's time on
each text, with a matrix-multiplication speed measured before and after (other jobs on the
machine slow everything down; the two say how much). Torch runs on one thread: on a shared
machine, two threads wait on each other whenever another process holds a core, and a run of
many minutes is slowed far more than by losing the second core (see benchmarks/generation.py).
Timings depend on the machine; the bits per byte do not (beyond the last digits).

    python benchmarks/bits_per_byte.py
"""

from __future__ import annotations

import math
import time

import torch
from timing import machine, median_time
from transformers import GPT2LMHeadModel

from course_utils.data import load_corpus, reference_model_path
from course_utils.metrics import UNKNOWN, bits_per_byte, open_vocabulary_bits, text_loss
from course_utils.ngrams import NGramLM
from course_utils.pretrained import load_smollm2
from course_utils.tokenization import BPETokenizer

TEXTS = {"Macbeth": "shakespeare", "poems": "poetry_zh"}
NGRAM_ORDER = 7
REFERENCE_WINDOW = (128, 64)  # block_size, stride: as the reference model was scored
SMOLLM2_WINDOW = (512, 448)   # the notebook's setting


def matmul_gflops(n: int = 512) -> float:
    """Float32 matrix-multiplication speed now, in GFLOP/s: how busy the machine is."""
    a = torch.randn(n, n)
    seconds, _ = median_time(lambda: a @ a, repeats=20, warmup=3)
    return 2 * n**3 / seconds / 1e9


def uniform_bits(train: str, text: str) -> float:
    """Bits of `text` under a uniform model over train's characters and <unk>."""
    vocab = set(train)
    new_bytes = sum(len(c.encode("utf-8")) for c in text if c not in vocab)
    return len(text) * math.log2(len(vocab) + 1) + 8 * new_bytes


def main() -> None:
    torch.set_num_threads(1)
    print(machine())
    print(f"matrix multiplication: {matmul_gflops():.0f} GFLOP/s before\n")
    results: dict[tuple[str, str], float] = {}
    seconds: dict[str, float] = {}
    for name, corpus in TEXTS.items():
        train, text = load_corpus(corpus, "train"), load_corpus(corpus, "val")
        num_bytes = len(text.encode("utf-8"))
        results["uniform", name] = uniform_bits(train, text) / num_bytes
        lm = NGramLM(NGRAM_ORDER, "modified_kneser_ney").fit(train, vocab=[UNKNOWN])
        results["n-gram", name] = open_vocabulary_bits(lm, list(text)) / num_bytes
        del lm
    reference = GPT2LMHeadModel.from_pretrained(reference_model_path()).eval()
    macbeth = load_corpus("shakespeare", "val")
    ids = torch.tensor(BPETokenizer.load(reference_model_path()).encode(macbeth))
    loss = text_loss(reference, ids, *REFERENCE_WINDOW)
    results["course GPT", "Macbeth"] = bits_per_byte(loss, len(ids), len(macbeth.encode()))

    model, tokenizer = load_smollm2()
    for name, corpus in TEXTS.items():
        text = load_corpus(corpus, "val")
        ids = torch.tensor(tokenizer(text).input_ids)
        start = time.perf_counter()
        loss = text_loss(model, ids, *SMOLLM2_WINDOW, batch_size=4)
        seconds[name] = time.perf_counter() - start
        results["SmolLM2", name] = bits_per_byte(loss, len(ids), len(text.encode("utf-8")))
        print(f"SmolLM2 on {name}: {len(ids):,} tokens for {len(text):,} characters "
              f"({len(ids) / len(text):.2f} tokens per character), {loss:.4f} nats per token, "
              f"{seconds[name]:.0f} s ({len(ids) / seconds[name]:.0f} tokens scored per second)")
    print(f"matrix multiplication: {matmul_gflops():.0f} GFLOP/s after\n{machine()}\n")

    labels = {"uniform": "uniform over the training characters",
              "n-gram": f"modified-KN character {NGRAM_ORDER}-gram",
              "course GPT": "course GPT (reference model)",
              "SmolLM2": "SmolLM2-135M"}
    print("bits per byte on the whole held-out texts (lower is better)")
    print(f"  {'':40}" + "".join(f"{name:>10}" for name in TEXTS))
    for key, label in labels.items():
        row = "".join(f"{results[key, name]:>10.3f}" if (key, name) in results else f"{'—':>10}"
                      for name in TEXTS)
        print(f"  {label:40}{row}")


if __name__ == "__main__":
    main()
