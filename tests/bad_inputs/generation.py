"""Bad inputs for generation: generate and its config, the strategies, the filters and
penalties, the model adapter, and the pretrained-model loaders."""

from __future__ import annotations

import functools

import numpy as np
import torch

from bad_inputs import bad

from course_utils.decoding import (apply_repetition_penalty, apply_temperature,
                                   ban_repeated_ngrams, check_ids_in_vocab, top_k_filter,
                                   top_p_filter)
from course_utils.generation import GenerationConfig, NextTokenLogits, generate
from course_utils.model import GPT, GPTConfig
from course_utils.pretrained import gpt2_from_hub
from course_utils.strategies import beam_search, greedy_search, sample

_CONFIG = GPTConfig(vocab_size=64, block_size=16, n_layer=1, n_head=2, n_embd=8)
_MODEL = GPT(_CONFIG)
_FOUR_TOKENS = GPT(GPTConfig(vocab_size=4, block_size=16, n_layer=1, n_head=1, n_embd=4))
_BROKEN = GPT(_CONFIG)  # what a diverged training run leaves behind
with torch.no_grad():
    _BROKEN.transformer.wte.weight.fill_(float("nan"))
_IDS = torch.tensor([[1, 2, 3]])
_SCORES = torch.tensor([[2.0, -1.0, 0.5, 0.0]])
_NAN = float("nan")
_INF = float("inf")


def _bigram(ids: torch.Tensor) -> torch.Tensor:
    return torch.zeros(ids.size(0), 64)


def _gen(**settings: object) -> torch.Tensor:
    """generate() on the tiny model with one bad setting."""
    return generate(_MODEL, _IDS, 4, **settings)


def _seen_scores(ids: torch.Tensor) -> torch.Tensor:
    """Four negative logits: with the prompt [[0, 1, 2, 3]] every token has been seen."""
    return torch.tensor([[-1.0, -2.0, -3.0, -4.0]]).expand(ids.size(0), 4)


_EVERY_TOKEN_SEEN = torch.tensor([[0, 1, 2, 3]])


@functools.cache
def _hf_model() -> torch.nn.Module:
    return _MODEL.to_hf()


@functools.cache
def _t5() -> torch.nn.Module:
    """An encoder-decoder: it has generate, but it is no causal LM."""
    from transformers import T5Config, T5ForConditionalGeneration

    with torch.random.fork_rng(devices=[]):
        return T5ForConditionalGeneration(T5Config(vocab_size=64, d_model=8, d_kv=4, d_ff=8,
                                                   num_layers=1, num_heads=2))


def _reordered(model: torch.nn.Module, rows: object) -> None:
    """A model adapter that has seen one row, told which rows continue which."""
    next_logits = NextTokenLogits(model)
    next_logits(_IDS)
    next_logits.reorder(rows)


CASES = [
    # generate: the model and the prompt
    bad("generate(model=Linear)", lambda: generate(torch.nn.Linear(2, 2), _IDS, 2), TypeError,
        "model", "Linear"),
    bad("generate(model=T5, an encoder-decoder)", lambda: generate(_t5(), _IDS, 2), TypeError,
        "model", "encoder-decoder", "T5ForConditionalGeneration"),
    bad("generate(input_ids=list)", lambda: generate(_MODEL, [[1, 2, 3]], 2), TypeError,
        "input_ids", "dtype=torch.long"),
    bad("generate(input_ids=float)", lambda: generate(_MODEL, torch.zeros(1, 3), 2), TypeError,
        "input_ids", "float32"),
    bad("generate(input_ids=bool)", lambda: generate(_MODEL, torch.ones(1, 3, dtype=torch.bool),
                                                     2), TypeError, "input_ids", "bool"),
    bad("generate(input_ids 1-D)", lambda: generate(_MODEL, torch.tensor([1, 2, 3]), 2),
        ValueError, "input_ids", "input_ids[None]"),
    bad("generate(empty prompt)", lambda: generate(_MODEL, torch.zeros(1, 0, dtype=torch.long)),
        ValueError, "input_ids", "T = 0"),
    bad("generate(id = vocab_size)", lambda: generate(_MODEL, torch.tensor([[1, 64]]), 2),
        ValueError, "input_ids", "64", "0..63"),
    bad("generate(negative id)", lambda: generate(_MODEL, torch.tensor([[-1, 2]]), 2),
        ValueError, "input_ids", "-1"),
    bad("generate(prompt too long)", lambda: generate(_MODEL, torch.zeros(1, 17,
                                                                          dtype=torch.long), 0),
        ValueError, "input_ids[:, -16:]"),
    # generate: the settings (GenerationConfig)
    bad("max_new_tokens=True", lambda: generate(_MODEL, _IDS, True), TypeError,
        "max_new_tokens", "bool"),
    bad("max_new_tokens=2.0", lambda: generate(_MODEL, _IDS, 2.0), TypeError, "max_new_tokens"),
    bad("max_new_tokens=-1", lambda: generate(_MODEL, _IDS, -1), ValueError, "max_new_tokens"),
    bad("max_new_tokens past the context", lambda: generate(_MODEL, _IDS, 14), ValueError,
        "max_new_tokens", "<= 13"),
    bad("strategy=beam_search", lambda: _gen(strategy="beam_search"), ValueError, "strategy",
        "'beam'"),
    bad("temperature=nan", lambda: _gen(strategy="sample", temperature=_NAN), ValueError,
        "temperature", "nan"),
    bad("temperature=inf", lambda: _gen(strategy="sample", temperature=_INF), ValueError,
        "temperature", "inf"),
    bad("temperature=0", lambda: _gen(strategy="sample", temperature=0), ValueError,
        "temperature", "strategy='greedy'"),
    bad("temperature='0.7'", lambda: _gen(strategy="sample", temperature="0.7"), TypeError,
        "temperature"),
    bad("temperature with greedy", lambda: _gen(temperature=0.7), ValueError, "temperature",
        "strategy='sample'"),
    bad("top_k=True", lambda: _gen(strategy="sample", top_k=True), TypeError, "top_k", "bool"),
    bad("top_k=0", lambda: _gen(strategy="sample", top_k=0), ValueError, "top_k", "None"),
    bad("top_p=nan", lambda: _gen(strategy="sample", top_p=_NAN), ValueError, "top_p", "nan"),
    bad("top_p=1.5", lambda: _gen(strategy="sample", top_p=1.5), ValueError, "top_p", "(0, 1]"),
    bad("seed=2**70", lambda: _gen(strategy="sample", seed=2**70), ValueError, "seed",
        "2**64 - 1"),
    bad("seed=-1", lambda: _gen(strategy="sample", seed=-1), ValueError, "seed"),
    bad("seed=True", lambda: _gen(strategy="sample", seed=True), TypeError, "seed", "bool"),
    bad("seed=Generator", lambda: _gen(strategy="sample", seed=torch.Generator()), TypeError,
        "seed", "generator="),
    bad("seed and generator", lambda: _gen(strategy="sample", seed=1,
                                           generator=torch.Generator()), ValueError, "seed",
        "generator"),
    bad("generator=0", lambda: _gen(strategy="sample", generator=0), TypeError, "generator"),
    bad("seed with greedy", lambda: _gen(seed=0), ValueError, "seed", "strategy='sample'"),
    bad("num_beams=True", lambda: _gen(strategy="beam", num_beams=True), TypeError,
        "num_beams", "bool"),
    bad("beam without num_beams", lambda: _gen(strategy="beam"), ValueError, "num_beams"),
    bad("length_penalty=nan", lambda: _gen(strategy="beam", num_beams=2, length_penalty=_NAN),
        ValueError, "length_penalty", "nan"),
    bad("length_penalty=-inf", lambda: _gen(strategy="beam", num_beams=2,
                                            length_penalty=-_INF), ValueError, "length_penalty"),
    bad("early_stopping=1", lambda: _gen(strategy="beam", num_beams=2, early_stopping=1),
        ValueError, "early_stopping", "'never'"),
    bad("repetition_penalty=inf", lambda: _gen(repetition_penalty=_INF), ValueError,
        "repetition_penalty", "inf"),
    bad("repetition_penalty=0", lambda: _gen(repetition_penalty=0), ValueError,
        "repetition_penalty"),
    bad("no_repeat_ngram_size=True", lambda: _gen(no_repeat_ngram_size=True), TypeError,
        "no_repeat_ngram_size", "bool"),
    bad("eos_token_id=True", lambda: _gen(eos_token_id=True), TypeError, "eos_token_id",
        "bool"),
    bad("eos_token_id='</s>'", lambda: _gen(eos_token_id="</s>"), TypeError, "eos_token_id",
        "tokenizer.eos_token_id"),
    bad("eos_token_id=[]", lambda: _gen(eos_token_id=[]), ValueError, "eos_token_id", "None"),
    bad("eos_token_id=tensor", lambda: _gen(eos_token_id=torch.tensor(5)), TypeError,
        "eos_token_id"),
    bad("eos_token_id=vocab_size", lambda: _gen(eos_token_id=64), ValueError, "eos_token_id",
        "64"),
    bad("pad_token_id=100", lambda: _gen(eos_token_id=3, pad_token_id=100), ValueError,
        "pad_token_id", "100"),
    bad("pad_token_id=-1", lambda: _gen(pad_token_id=-1), ValueError, "pad_token_id"),
    bad("use_cache='yes'", lambda: _gen(use_cache="yes"), TypeError, "use_cache"),
    bad("GenerationConfig(strategy=None)", lambda: GenerationConfig(strategy=None), ValueError,
        "strategy"),
    # degenerate numbers during generation
    bad("NaN logits, greedy", lambda: generate(_BROKEN, _IDS, 2), ValueError, "model", "NaN",
        "step 0"),
    bad("NaN logits, sampling", lambda: generate(_BROKEN, _IDS, 2, strategy="sample"),
        ValueError, "model", "NaN"),
    bad("every token banned", lambda: generate(_FOUR_TOKENS, torch.tensor([[0, 1, 2, 3]]), 2,
                                               no_repeat_ngram_size=1),
        ValueError, "no_repeat_ngram_size", "every token is banned", "step 0"),
    bad("every token banned, beams", lambda: generate(
        _FOUR_TOKENS, torch.tensor([[0, 1, 2, 3]]), 2, strategy="beam", num_beams=2,
        no_repeat_ngram_size=1), ValueError, "no_repeat_ngram_size", "every token is banned"),
    # the filters and penalties
    bad("top_k_filter(k=0)", lambda: top_k_filter(_SCORES, 0), ValueError, "k", ">= 1"),
    bad("top_k_filter(k=2.5)", lambda: top_k_filter(_SCORES, 2.5), TypeError, "k"),
    bad("top_k_filter(1-D)", lambda: top_k_filter(_SCORES[0], 2), ValueError, "scores",
        "scores[None]"),
    bad("top_k_filter(int scores)", lambda: top_k_filter(torch.tensor([[1, 2, 3]]), 2),
        TypeError, "scores", "int64"),
    bad("top_k_filter(NaN scores)", lambda: top_k_filter(torch.tensor([[1.0, _NAN]]), 1),
        ValueError, "scores", "nan"),
    bad("top_p_filter(p=nan)", lambda: top_p_filter(_SCORES, _NAN), ValueError, "p", "nan"),
    bad("top_p_filter(p=0)", lambda: top_p_filter(_SCORES, 0), ValueError, "p", "(0, 1]"),
    bad("top_p_filter(list)", lambda: top_p_filter([[0.5, 0.5]], 0.9), TypeError, "scores"),
    bad("apply_temperature(-1)", lambda: apply_temperature(_SCORES, -1.0), ValueError,
        "temperature"),
    bad("repetition penalty, id outside vocab",
        lambda: apply_repetition_penalty(_SCORES, torch.tensor([[0, 9]]), 1.3), ValueError,
        "input_ids", "9", "0..3"),
    bad("repetition penalty, fewer id rows",
        lambda: apply_repetition_penalty(_SCORES.repeat(2, 1), torch.tensor([[0, 1]]), 1.3),
        ValueError, "input_ids", "rows"),
    bad("repetition penalty=inf", lambda: apply_repetition_penalty(_SCORES, _IDS % 4, _INF),
        ValueError, "penalty", "inf"),
    bad("repetition penalty, float ids",
        lambda: apply_repetition_penalty(_SCORES, torch.tensor([[0.0, 1.0]]), 1.3), TypeError,
        "input_ids"),
    bad("ban_repeated_ngrams(n=0)", lambda: ban_repeated_ngrams(_SCORES, _IDS % 4, 0),
        ValueError, "n", ">= 1"),
    bad("ban_repeated_ngrams(n=True)", lambda: ban_repeated_ngrams(_SCORES, _IDS % 4, True),
        TypeError, "n", "bool"),
    bad("ban_repeated_ngrams(negative id)",
        lambda: ban_repeated_ngrams(_SCORES, torch.tensor([[1, -2, 1]]), 2), ValueError,
        "input_ids", "-2"),
    # the strategies and the model adapter
    bad("greedy_search(next_logits=model name)", lambda: greedy_search("gpt2", _IDS, 2),
        TypeError, "next_logits", "NextTokenLogits"),
    bad("greedy_search(next_logits=the model)", lambda: greedy_search(_MODEL, _IDS, 2),
        ValueError, "next_logits", "(B, V)", "NextTokenLogits"),
    bad("greedy_search(next_logits returns a list)", lambda: greedy_search(
        lambda ids: [[0.0, 1.0]], _IDS, 2), TypeError, "next_logits"),
    bad("greedy_search(inf logits)", lambda: greedy_search(
        lambda ids: torch.full((1, 4), _INF), _IDS % 4, 2), ValueError, "next_logits",
        "infinite"),
    bad("greedy_search(eos outside vocab)", lambda: greedy_search(_bigram, _IDS, 2,
                                                                  eos_token_id=[3, 99]),
        ValueError, "eos_token_id", "99"),
    bad("sample(generator=None)", lambda: sample(_bigram, _IDS, 2, generator=None), TypeError,
        "generator", "torch.Generator().manual_seed(0)"),
    bad("sample(top_p=nan)", lambda: sample(_bigram, _IDS, 2, generator=torch.Generator(),
                                            top_p=_NAN), ValueError, "top_p"),
    bad("beam_search(num_beams=0)", lambda: beam_search(_bigram, _IDS, 2, num_beams=0),
        ValueError, "num_beams"),
    bad("beam_search(length_penalty=nan)", lambda: beam_search(_bigram, _IDS, 2, num_beams=2,
                                                               length_penalty=_NAN),
        ValueError, "length_penalty"),
    bad("NextTokenLogits(Linear)", lambda: NextTokenLogits(torch.nn.Linear(2, 2)), TypeError,
        "model"),
    bad("NextTokenLogits(use_cache=1)", lambda: NextTokenLogits(_MODEL, use_cache=1), TypeError,
        "use_cache"),
    bad("NextTokenLogits.reorder(list)", lambda: _reordered(_MODEL, [0]), TypeError, "rows"),
    bad("NextTokenLogits.reorder(row 7 of 1)", lambda: _reordered(_MODEL, torch.tensor([7])),
        ValueError, "rows", "0..0", "7"),
    bad("NextTokenLogits(hf).reorder(list)", lambda: _reordered(_hf_model(), [0]), TypeError,
        "rows"),
    bad("NextTokenLogits(hf).reorder(row 7 of 1)", lambda: _reordered(
        _hf_model(), torch.tensor([7])), ValueError, "rows", "0..0"),
    bad("NextTokenLogits(hf).reorder(float rows)", lambda: _reordered(
        _hf_model(), torch.tensor([0.0])), TypeError, "rows", "float32"),
    bad("generate(model on meta)", lambda: generate(GPT(_CONFIG).to("meta"), _IDS, 2),
        ValueError, "model", "meta"),
    bad("NextTokenLogits(hf model on meta)", lambda: NextTokenLogits(
        GPT(_CONFIG).to_hf().to("meta")), ValueError, "model", "meta"),
    bad("NextTokenLogits(meta input_ids)", lambda: NextTokenLogits(_MODEL)(
        torch.zeros(1, 3, dtype=torch.long, device="meta")), ValueError, "input_ids", "meta"),
    # scores after every penalty and filter: overflows, nothing left, huge ids, empty tensors
    bad("greedy, repetition_penalty=1e308 on seen tokens", lambda: greedy_search(
        _seen_scores, _EVERY_TOKEN_SEEN, 1, repetition_penalty=1e308), ValueError,
        "repetition_penalty", "1e+308", "near 1"),
    bad("beam, repetition_penalty=1e308 on seen tokens", lambda: beam_search(
        _seen_scores, _EVERY_TOKEN_SEEN, 1, num_beams=2, repetition_penalty=1e308), ValueError,
        "repetition_penalty"),
    bad("sample, repetition_penalty=1e308 on seen tokens", lambda: sample(
        _seen_scores, _EVERY_TOKEN_SEEN, 1, generator=torch.Generator(),
        repetition_penalty=1e308), ValueError, "repetition_penalty"),
    bad("generate, repetition_penalty=1e-308", lambda: _gen(strategy="sample",
                                                            repetition_penalty=1e-308),
        ValueError, "repetition_penalty", "1e-308"),
    bad("apply_repetition_penalty(1e-308)", lambda: apply_repetition_penalty(
        _SCORES, torch.tensor([[0]]), 1e-308), ValueError, "penalty", "float32"),
    bad("apply_repetition_penalty(1e308)", lambda: apply_repetition_penalty(
        _SCORES, torch.tensor([[1]]), 1e308), ValueError, "penalty"),
    bad("apply_repetition_penalty(5e-324, float64)", lambda: apply_repetition_penalty(
        _SCORES.double(), torch.tensor([[0]]), 5e-324), ValueError, "penalty", "float64"),
    bad("eos_token_id=2**70", lambda: _gen(eos_token_id=2**70), ValueError, "eos_token_id",
        "2**63 - 1"),
    bad("pad_token_id=2**70", lambda: _gen(eos_token_id=1, pad_token_id=2**70), ValueError,
        "pad_token_id", "2**63 - 1"),
    bad("eos_token_id=[1, uint64 max]", lambda: _gen(eos_token_id=[1, np.uint64(2**64 - 1)]),
        ValueError, "eos_token_id"),
    bad("num_beams=2**70", lambda: _gen(strategy="beam", num_beams=2**70), ValueError,
        "num_beams", "2**63 - 1"),
    bad("num_beams=2**40", lambda: _gen(strategy="beam", num_beams=2**40), MemoryError,
        "num_beams", "memory"),
    bad("greedy_search(eos_token_id=2**70)", lambda: greedy_search(_bigram, _IDS, 2,
                                                                   eos_token_id=2**70),
        ValueError, "eos_token_id"),
    bad("greedy_search(pad_token_id=2**63)", lambda: greedy_search(
        _bigram, _IDS, 2, eos_token_id=1, pad_token_id=2**63), ValueError, "pad_token_id"),
    bad("greedy_search(empty vocabulary)", lambda: greedy_search(
        lambda ids: torch.zeros(ids.size(0), 0), _IDS, 2), ValueError, "next_logits",
        "empty vocabulary"),
    bad("greedy_search(meta logits)", lambda: greedy_search(
        lambda ids: torch.zeros(ids.size(0), 4, device="meta"), _IDS % 4, 2), ValueError,
        "next_logits", "meta"),
    bad("generate(meta input_ids)", lambda: generate(
        _MODEL, torch.zeros(1, 3, dtype=torch.long, device="meta"), 1), ValueError,
        "input_ids", "meta"),
    bad("top_k_filter(no tokens)", lambda: top_k_filter(torch.zeros(1, 0), 1), ValueError,
        "scores", "(1, 0)"),
    bad("top_k_filter(no rows)", lambda: top_k_filter(torch.zeros(0, 4), 1), ValueError,
        "scores", "(0, 4)"),
    bad("top_p_filter(no rows)", lambda: top_p_filter(torch.zeros(0, 4), 0.5), ValueError,
        "scores"),
    bad("apply_temperature(no tokens)", lambda: apply_temperature(torch.zeros(2, 0), 0.5),
        ValueError, "scores"),
    bad("top_k_filter(meta scores)", lambda: top_k_filter(torch.zeros(1, 4, device="meta"), 1),
        ValueError, "scores", "meta"),
    bad("check_ids_in_vocab(list, id 9)", lambda: check_ids_in_vocab("ids", [1, 9], 5),
        ValueError, "ids", "9", "0..4"),
    bad("check_ids_in_vocab(vocab_size=None)", lambda: check_ids_in_vocab(
        "ids", torch.tensor([1, 2]), None), TypeError, "vocab_size"),
    bad("check_ids_in_vocab(str)", lambda: check_ids_in_vocab("ids", "12", 5), TypeError,
        "ids"),
    bad("check_ids_in_vocab(bool id)", lambda: check_ids_in_vocab("ids", [1, True], 5),
        TypeError, "ids", "bool"),
    bad("make_generator('cuda:99')", lambda: GenerationConfig(
        strategy="sample").make_generator("cuda:99"), ValueError, "device", "cuda"),
    bad("make_generator('tpu')", lambda: GenerationConfig(strategy="sample").make_generator(
        "tpu"), ValueError, "device"),
    # pretrained models
    bad("gpt2_from_hub('gpt3')", lambda: gpt2_from_hub("gpt3"), ValueError, "name", "'gpt2'"),
    bad("gpt2_from_hub(None)", lambda: gpt2_from_hub(None), TypeError, "name"),
    bad("GPT.from_pretrained(124)", lambda: GPT.from_pretrained(124), TypeError, "name"),
]
