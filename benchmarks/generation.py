"""How fast does the course's `generate` write? With and without the KV cache, and against
transformers' `generate`. (A benchmark, not a test.)

Greedy decoding of one prompt (B=1), in tokens generated per second, for three models:

1. The course's reference model (data/reference_model: GPT-2's layout, 4 layers, n_embd=128),
   run as the course GPT (`GPT.from_hf`). Its context is 128 positions, so the prompt is
   8 tokens and 120 tokens are generated, not 200.
2. SmolLM2-135M-Instruct (transformers' LlamaForCausalLM, 30 layers, n_embd=576) driven by the
   course's generate: 200 new tokens. Without the cache this run takes a few minutes.
3. SmolLM2-135M-Instruct as the course's own Llama (`Llama.from_hf`, the same weights),
   driven by the course's generate with the Llama's preallocated `StaticKVCache`: 200 new
   tokens, a few minutes without the cache.

transformers' generate runs on the same weights (GPT2LMHeadModel for the reference model,
LlamaForCausalLM for SmolLM2), generating the same number of tokens; the table says whether the
tokens are identical.
Targets: the KV cache makes the course's generate at least 5x faster; the course's generate
(with the cache) reaches at least 0.67x transformers' tokens/s. Timings are the best of a few
runs (one run without the cache on SmolLM2). It prints PASS/FAIL but always exits 0: timings
depend on the machine and on what else runs on it.

What the cache saves grows with the context and the model's width. The reference model is
so small (n_embd=128, at most 128 positions) that a step costs mostly Python and call
overhead, cached or not, so its speedup stays far below SmolLM2's.

Torch runs on one thread: decoding one token at a time reads every weight once per token and
gains little from a second thread, and when another process keeps a core busy, torch's
threads wait on each other and a step takes 5-50x longer (measured on a shared 2-core machine).

    python benchmarks/generation.py
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import torch
from timing import best_time, machine, verdict

from course_utils.generation import generate
from course_utils.llama import Llama
from course_utils.model import GPT
from course_utils.pretrained import load_smollm2

REPEATS = 3  # timed runs per measurement; the best is kept
THREADS = 1
TARGET_CACHE_SPEEDUP = 5.0
TARGET_VS_TRANSFORMERS = 0.67
REFERENCE_PROMPT = "KING HENRY:\nWhat say you"
SMOLLM2_PROMPT = "Write a short story about a lighthouse keeper."


@contextlib.contextmanager
def without_eos(hf_model: torch.nn.Module) -> Iterator[None]:
    """transformers' generate stops at the EOS id of the model's generation_config; take it away
    for the block, so that both sides generate the same number of tokens."""
    config = hf_model.generation_config
    saved = config.eos_token_id
    config.eos_token_id = None
    try:
        yield
    finally:
        config.eos_token_id = saved


def hf_greedy(hf_model: torch.nn.Module, prompt: torch.Tensor, new: int) -> torch.Tensor:
    with without_eos(hf_model), torch.no_grad():
        return hf_model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                 num_beams=1, max_new_tokens=new)


def compare(name: str, course: Callable[..., torch.Tensor], hf_model: torch.nn.Module,
            prompt: torch.Tensor, new: int, repeats: int, no_cache_repeats: int) -> None:
    """Time the three ways and print one block of the table. course(prompt, new, use_cache=...)
    generates greedily with the course's code."""
    course(prompt, 4)  # warm-up
    hf_greedy(hf_model, prompt, 4)
    cached_s = hf_s = float("inf")
    for _ in range(repeats):  # alternated, so that a busy spell on the machine hits both
        seconds, cached = best_time(lambda: course(prompt, new), 1)
        cached_s = min(cached_s, seconds)
        seconds, theirs = best_time(lambda: hf_greedy(hf_model, prompt, new), 1)
        hf_s = min(hf_s, seconds)
    uncached_s, uncached = best_time(lambda: course(prompt, new, use_cache=False),
                                     no_cache_repeats)
    assert cached.shape[1] - prompt.shape[1] == new
    same = torch.equal(cached, theirs) and torch.equal(cached, uncached)
    speedup, ratio = uncached_s / cached_s, hf_s / cached_s
    print(f"{name}: prompt {prompt.shape[1]} tokens, {new} new tokens, greedy, B=1; "
          f"tokens {'identical' if same else 'DIFFERENT'} in all three runs")
    print(f"  {'course, KV cache':34s} {new / cached_s:8.1f} tokens/s")
    print(f"  {'course, no cache':34s} {new / uncached_s:8.1f} tokens/s")
    print(f"  {'transformers generate':34s} {new / hf_s:8.1f} tokens/s")
    print(f"  KV cache speedup: {speedup:6.1f}x   target >= {TARGET_CACHE_SPEEDUP:.0f}x   "
          f"{verdict(speedup >= TARGET_CACHE_SPEEDUP)}")
    print(f"  course vs transformers: {ratio:5.2f}x its tokens/s   target >= "
          f"{TARGET_VS_TRANSFORMERS}x   {verdict(ratio >= TARGET_VS_TRANSFORMERS)}")
    print(f"  ({machine()})\n")


def main() -> None:
    from transformers import AutoTokenizer, GPT2LMHeadModel

    from course_utils.data import reference_model_path

    torch.set_num_threads(THREADS)
    print(f"{machine()}; float32\n")
    path = reference_model_path()
    hf_reference = GPT2LMHeadModel.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    prompt = torch.tensor([tokenizer.encode(REFERENCE_PROMPT)[:8]])
    new = hf_reference.config.n_positions - prompt.shape[1]  # fill the 128-token context
    reference = GPT.from_hf(hf_reference)
    compare("reference model (course GPT and generate vs transformers' GPT2LMHeadModel)",
            lambda *args, **kw: generate(reference, *args, **kw), hf_reference, prompt, new,
            REPEATS, REPEATS)

    start = time.perf_counter()
    model, tokenizer = load_smollm2()
    print(f"load_smollm2(): {time.perf_counter() - start:.1f} s")
    prompt = torch.tensor([tokenizer.encode(SMOLLM2_PROMPT)])
    compare("SmolLM2-135M-Instruct (course generate driving transformers' LlamaForCausalLM)",
            lambda *args, **kw: generate(model, *args, **kw), model, prompt, 200, repeats=2,
            no_cache_repeats=1)
    llama = Llama.from_hf(model)
    compare("SmolLM2-135M-Instruct (course generate driving the course Llama)",
            lambda *args, **kw: generate(llama, *args, **kw), model, prompt, 200, repeats=2,
            no_cache_repeats=1)


if __name__ == "__main__":
    main()
