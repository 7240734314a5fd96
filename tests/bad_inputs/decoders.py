"""Bad inputs for the newer decoders: min-p sampling, prompt-lookup decoding, and cropping the
KV caches they use."""

from __future__ import annotations

import torch

from bad_inputs import bad

from course_utils.decoding import ScoreSteps, min_p_filter
from course_utils.generation import GenerationConfig, generate
from course_utils.llama_cache import StaticKVCache
from course_utils.model import GPT, GPTConfig
from course_utils.multihead import KVCache
from course_utils.prompt_lookup import find_draft, prompt_lookup_generate

_MODEL = GPT(GPTConfig(vocab_size=64, block_size=16, n_layer=1, n_head=2, n_embd=8))
_IDS = torch.tensor([[1, 2, 3, 1, 2]])
_SCORES = torch.tensor([[2.0, -1.0, 0.5, 0.0]])


def _mamba() -> torch.nn.Module:
    """A transformers causal LM with a recurrent state, not keys and values."""
    from transformers import MambaConfig, MambaForCausalLM

    with torch.random.fork_rng(devices=[]):
        return MambaForCausalLM(MambaConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1,
                                            state_size=4, expand=2, conv_kernel=2))


def _cache(positions: int) -> KVCache:
    cache = KVCache()
    cache.update(0, torch.zeros(1, 1, positions, 2), torch.zeros(1, 1, positions, 2))
    return cache


def _static_cache(positions: int) -> StaticKVCache:
    cache = StaticKVCache(n_layer=1, batch_size=1, n_kv_head=1, max_len=4, head_dim=2)
    cache.update(0, torch.zeros(1, 1, positions, 2), torch.zeros(1, 1, positions, 2))
    return cache


CASES = [
    # min_p_filter, and min_p in the settings
    bad("min_p_filter(min_p=nan)", lambda: min_p_filter(_SCORES, float("nan")), ValueError,
        "min_p", "nan"),
    bad("min_p_filter(min_p=-0.1)", lambda: min_p_filter(_SCORES, -0.1), ValueError, "min_p",
        "[0, 1]"),
    bad("min_p_filter(min_p=1.5)", lambda: min_p_filter(_SCORES, 1.5), ValueError, "min_p",
        "[0, 1]"),
    bad("min_p_filter(min_p='0.1')", lambda: min_p_filter(_SCORES, "0.1"), TypeError, "min_p"),
    bad("min_p_filter(min_p=None)", lambda: min_p_filter(_SCORES, None), TypeError, "min_p"),
    bad("min_p_filter(scores 1-D)", lambda: min_p_filter(torch.zeros(4), 0.1), ValueError,
        "scores", "(B, V)"),
    bad("min_p_filter(scores NaN)", lambda: min_p_filter(torch.tensor([[float("nan"), 0.0]]),
                                                         0.1), ValueError, "scores", "NaN"),
    bad("min_p_filter(int scores)", lambda: min_p_filter(torch.tensor([[1, 2]]), 0.1),
        TypeError, "scores"),
    bad("ScoreSteps(min_p=True)", lambda: ScoreSteps(min_p=True), TypeError, "min_p", "bool"),
    bad("min_p with greedy", lambda: GenerationConfig(min_p=0.1), ValueError, "min_p",
        "strategy='sample'"),
    bad("min_p with beam", lambda: GenerationConfig(strategy="beam", num_beams=2, min_p=0.1),
        ValueError, "min_p", "strategy='sample'"),
    bad("generate(min_p=2)", lambda: generate(_MODEL, _IDS, 2, strategy="sample", min_p=2),
        ValueError, "min_p", "None is off"),
    # find_draft
    bad("find_draft(ids=str)", lambda: find_draft("1 2 3"), TypeError, "ids"),
    bad("find_draft(ids float tensor)", lambda: find_draft(torch.zeros(3)), TypeError, "ids",
        "integer"),
    bad("find_draft(ids of 2 rows)", lambda: find_draft(torch.zeros(2, 3, dtype=torch.long)),
        ValueError, "ids", "once per row"),
    bad("find_draft(ids 3-D)", lambda: find_draft(torch.zeros(1, 1, 3, dtype=torch.long)),
        ValueError, "ids", "(1, T)"),
    bad("find_draft(negative id)", lambda: find_draft([1, -2, 1]), ValueError, "ids", "-2"),
    bad("find_draft(id 1.0)", lambda: find_draft([1, 1.0]), TypeError, "ids", "1.0"),
    bad("find_draft(max_ngram_size=0)", lambda: find_draft([1, 2], max_ngram_size=0),
        ValueError, "max_ngram_size", "2"),
    bad("find_draft(num_draft_tokens=0)", lambda: find_draft([1, 2], num_draft_tokens=0),
        ValueError, "num_draft_tokens", "10"),
    bad("find_draft(eos='</s>')", lambda: find_draft([1, 2], eos_token_id="</s>"), TypeError,
        "eos_token_id"),
    # prompt_lookup_generate
    bad("prompt_lookup(model=Linear)", lambda: prompt_lookup_generate(torch.nn.Linear(2, 2),
                                                                      _IDS, 2), TypeError,
        "model", "Linear"),
    bad("prompt_lookup(model=Mamba, no KV cache)", lambda: prompt_lookup_generate(
        _mamba(), _IDS, 2), TypeError, "model", "MambaForCausalLM", "past_key_values",
        "generate("),
    bad("prompt_lookup(batch of 2)", lambda: prompt_lookup_generate(_MODEL, _IDS.repeat(2, 1),
                                                                    2), ValueError,
        "input_ids", "(1, T)", "once per row"),
    bad("prompt_lookup(1-D prompt)", lambda: prompt_lookup_generate(_MODEL, _IDS[0], 2),
        ValueError, "input_ids", "input_ids[None]"),
    bad("prompt_lookup(empty prompt)", lambda: prompt_lookup_generate(
        _MODEL, torch.zeros(1, 0, dtype=torch.long), 2), ValueError, "input_ids", "T = 0"),
    bad("prompt_lookup(float prompt)", lambda: prompt_lookup_generate(_MODEL, _IDS.float(), 2),
        TypeError, "input_ids"),
    bad("prompt_lookup(id = vocab_size)", lambda: prompt_lookup_generate(
        _MODEL, torch.tensor([[1, 64]]), 2), ValueError, "input_ids", "0..63"),
    bad("prompt_lookup(max_new_tokens=-1)", lambda: prompt_lookup_generate(_MODEL, _IDS, -1),
        ValueError, "max_new_tokens"),
    bad("prompt_lookup(past the context)", lambda: prompt_lookup_generate(_MODEL, _IDS, 12),
        ValueError, "max_new_tokens", "<= 11", "context of 16"),
    bad("prompt_lookup(num_draft_tokens=0)", lambda: prompt_lookup_generate(
        _MODEL, _IDS, 2, num_draft_tokens=0), ValueError, "num_draft_tokens"),
    bad("prompt_lookup(max_ngram_size=1.5)", lambda: prompt_lookup_generate(
        _MODEL, _IDS, 2, max_ngram_size=1.5), TypeError, "max_ngram_size"),
    bad("prompt_lookup(eos = vocab_size)", lambda: prompt_lookup_generate(
        _MODEL, _IDS, 2, eos_token_id=64), ValueError, "eos_token_id", "0..63"),
    bad("prompt_lookup(eos=[])", lambda: prompt_lookup_generate(_MODEL, _IDS, 2,
                                                                eos_token_id=[]),
        ValueError, "eos_token_id", "empty"),
    # cropping the caches
    bad("KVCache.crop(-1)", lambda: _cache(3).crop(-1), ValueError, "length", "len(cache) - n"),
    bad("KVCache.crop(4) of 3", lambda: _cache(3).crop(4), ValueError, "length", "[0, 3]"),
    bad("KVCache.crop(2.0)", lambda: _cache(3).crop(2.0), TypeError, "length"),
    bad("StaticKVCache.crop(3) of 2", lambda: _static_cache(2).crop(3), ValueError, "length",
        "[0, 2]"),
    bad("StaticKVCache.crop(True)", lambda: _static_cache(2).crop(True), TypeError, "length",
        "bool"),
]
