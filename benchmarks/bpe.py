"""Benchmark the course's BPE against Hugging Face: training time and encoding speed.

Trains vocab_size=1024 on the Shakespeare train split with the naive trainer, the fast trainer
and the Rust `tokenizers` BpeTrainer, then encodes the whole split with GPT-2's vocabulary and
with the trained tokenizer. Run it with `make benchmarks` (or `python benchmarks/bpe.py`). It
prints PASS/FAIL against the course's targets but always exits 0: timings depend on the machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from course_utils.data import gpt2_vocab_files, load_corpus
from course_utils.tokenization import ENDOFTEXT, BPETokenizer

VOCAB_SIZE = 1024
NAIVE_BUDGET_S = 60.0   # run the naive trainer on the whole corpus only if it should fit this
NAIVE_PREFIX = 0.25     # fraction of the corpus timed first, to predict the full naive run
REPEATS = 3             # fast runs are timed several times; the best time is reported
TARGET_VS_NAIVE = 20.0  # fast must be at least this many times faster than naive
TARGET_VS_HF = 5.0      # and at most this many times slower than tokenizers' trainer


def best_time(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Return the fastest of `repeats` wall-clock timings of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def train_hf(lines: list[str]) -> object:
    """Train tokenizers' byte-level BPE to VOCAB_SIZE ids (256 bytes, merges, <|endoftext|>)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[ENDOFTEXT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(lines, trainer=trainer)
    assert tokenizer.get_vocab_size() == VOCAB_SIZE
    return tokenizer


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    from transformers import GPT2TokenizerFast

    text = load_corpus("shakespeare", "train")
    megabytes = len(text.encode("utf-8")) / 1e6
    lines = text.splitlines(keepends=True)
    print(f"Shakespeare train split: {megabytes:.2f} MB, {len(lines):,} lines; "
          f"vocab_size={VOCAB_SIZE}; {os.cpu_count()} CPU cores\n")

    # ---- training
    def train(corpus: str, method: str) -> BPETokenizer:
        return BPETokenizer.train(corpus, VOCAB_SIZE, method=method, progress=False)

    prefix = text[:int(len(text) * NAIVE_PREFIX)]
    start = time.perf_counter()
    train(prefix, "naive")
    naive_prefix_s = time.perf_counter() - start
    naive_estimate_s = naive_prefix_s * len(text) / len(prefix)
    if naive_estimate_s <= NAIVE_BUDGET_S:
        start = time.perf_counter()
        naive = train(text, "naive")
        naive_s, naive_label = time.perf_counter() - start, "measured on the whole corpus"
    else:
        naive, naive_s = None, naive_estimate_s
        naive_label = ("EXTRAPOLATED linearly from the prefix (an overestimate: distinct "
                       "chunks grow more slowly than the text)")

    train(prefix, "fast")  # warm-up: imports, regex compilation
    fast = train(text, "fast")
    fast_s = best_time(lambda: train(text, "fast"))
    same = "identical to naive's" if naive is not None and naive.merges == fast.merges else (
        "not compared (naive was extrapolated)" if naive is None else "DIFFERENT from naive's")
    train_hf(lines[:1000])  # warm-up: thread pool
    hf_s = best_time(lambda: train_hf(lines))

    print("Training (seconds, best of %d for fast and tokenizers)" % REPEATS)
    print(f"  naive, {NAIVE_PREFIX:.0%} prefix     {naive_prefix_s:8.2f}  (measured)")
    print(f"  naive, whole corpus    {naive_s:8.2f}  ({naive_label})")
    print(f"  fast, whole corpus     {fast_s:8.2f}  ({len(fast.merges)} merges, {same})")
    print(f"  tokenizers BpeTrainer  {hf_s:8.2f}  (ByteLevel, 256-byte alphabet, fed line by "
          f"line on {os.cpu_count()} threads)")
    vs_naive, vs_hf = naive_s / fast_s, fast_s / hf_s
    print(f"  fast vs naive: {vs_naive:6.1f}x faster   target >= {TARGET_VS_NAIVE:.0f}x   "
          f"{verdict(vs_naive >= TARGET_VS_NAIVE)}")
    print(f"  fast vs tokenizers: {vs_hf:4.2f}x its time   target <= {TARGET_VS_HF:.0f}x   "
          f"{verdict(vs_hf <= TARGET_VS_HF)}\n")

    # ---- encoding
    encoder_json, vocab_bpe = gpt2_vocab_files()
    reference = GPT2TokenizerFast(vocab=str(encoder_json), merges=str(vocab_bpe))
    hf_trained = fast.to_hf()

    def course_rate(make: Callable[[], BPETokenizer]) -> tuple[float, float, list[int]]:
        """MB/s of a fresh tokenizer's first call (empty chunk cache) and of a second call."""
        tok = make()
        start = time.perf_counter()
        ids = tok.encode(text)
        cold_s = time.perf_counter() - start
        warm_s = best_time(lambda: tok.encode(text))
        return megabytes / cold_s, megabytes / warm_s, ids

    def hf_rates(tok: object) -> tuple[float, float, float, list[int]]:
        """MB/s of one call on the whole text, of one batched call on its lines, and of the
        same batch given straight to the Rust `tokenizers.Tokenizer` underneath."""
        ids = tok(text)["input_ids"]  # warm-up
        whole_s = best_time(lambda: tok(text))
        batch_s = best_time(lambda: tok(lines))
        rust_s = best_time(lambda: tok.backend_tokenizer.encode_batch(lines))
        return megabytes / whole_s, megabytes / batch_s, megabytes / rust_s, ids

    print("Encoding the whole split, MB/s (course: one encode(text) call, pure Python;\n"
          "  HF: transformers fast tokenizer called once on the text / once on the list of "
          "lines,\n  and tokenizers.Tokenizer.encode_batch on the lines, on all cores)")
    for name, make, hf_tok in [("GPT-2 vocab", BPETokenizer.from_gpt2, reference),
                               ("trained 1024", lambda: BPETokenizer(fast.vocab, fast.merges,
                                                                     fast.special_tokens),
                                hf_trained)]:
        cold, warm, ids = course_rate(make)
        whole, batch, rust, hf_ids = hf_rates(hf_tok)
        match = "same ids" if ids == hf_ids else "DIFFERENT ids"
        print(f"  {name}: {len(ids):,} tokens, {match} from course and HF")
        print(f"    course  {cold:5.1f} (empty chunk cache)   {warm:5.1f} (warm cache)")
        print(f"    HF      {whole:5.1f} (one call)   {batch:5.1f} (batch of lines)   "
              f"{rust:5.1f} (encode_batch)")


if __name__ == "__main__":
    main()
