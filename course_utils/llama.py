"""Llama, built from the course's blocks: SmolLM2-135M's architecture, equal to transformers'.

`Llama` is GPT-2's decoder (`course_utils.model`) with the four swaps of
`course_utils.llama_blocks`: rotary positions instead of learned ones, RMSNorm instead of
LayerNorm, SwiGLU instead of GELU, grouped-query instead of multi-head attention, and no
biases. Its parameter names are those of transformers' `LlamaForCausalLM`
(`model.layers.0.self_attn.q_proj.weight`, ...), so loading weights is a name mapping:

- `Llama(LlamaConfig(...), seed=0)` builds a model initialised from `seed` only;
  `LlamaConfig()`'s defaults are SmolLM2-135M's.
- `model(input_ids)` maps token ids (B, T) to logits (B, T, vocab_size); with
  `kv_cache=model.make_kv_cache(batch_size=B, max_len=...)` (`course_utils.llama_cache`),
  each call continues the cached tokens and computes only the new ones.
- `Llama.from_hf(hf_model)` copies a `LlamaForCausalLM`; `Llama.from_smollm2()` loads
  SmolLM2-135M-Instruct from the installed GGUF file (`course_utils.pretrained.load_smollm2`).
- `kv_cache_bytes_per_token(config)` and `gpt2_vs_llama()`: what the swaps change, computed
  from the two models themselves.

`attention_mask` and `position_ids` take batches of prompts of different lengths, as in
transformers (`course_utils.batching`); `course_utils.generation.generate` drives the model.
Left out: RoPE scaling.

>>> model = Llama(LlamaConfig(vocab_size=10, block_size=8, n_layer=2, n_head=4, n_kv_head=2,
...                           n_embd=16, intermediate_size=32))
>>> model(torch.tensor([[1, 2, 3]])).shape  # (B, T, vocab_size)
torch.Size([1, 3, 10])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from course_utils.attention import _check_storable
from course_utils.batching import padding_and_positions
from course_utils.llama_blocks import GroupedQueryAttention, RMSNorm, SwiGLU, rope_tables
from course_utils.llama_cache import StaticKVCache
from course_utils.model import GPT, GPTConfig, _copy_weights, check_token_ids
from course_utils.validation import (check_bool, check_int, check_number, check_seed,
                                     check_tensor, check_type)

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM

__all__ = ["LlamaConfig", "Llama", "kv_cache_bytes_per_token", "gpt2_vs_llama"]


@dataclass(frozen=True)
class LlamaConfig:
    """Hyperparameters of a Llama, checked when it is made. The defaults are SmolLM2-135M's.

    Frozen like `GPTConfig`: `dataclasses.replace(config, n_layer=4)` makes a checked copy."""

    vocab_size: int = 49152  # SmolLM2's byte-level BPE
    block_size: int = 8192  # the longest context trained on (transformers: max_position_embeddings)
    n_layer: int = 30  # transformer blocks
    n_head: int = 9  # query heads per block; each has n_embd // n_head dimensions
    n_kv_head: int = 3  # key/value heads, each shared by n_head // n_kv_head query heads
    n_embd: int = 576  # width of the residual stream
    intermediate_size: int = 1536  # SwiGLU's hidden width (≈ 8/3 · n_embd)
    rope_theta: float = 100000.0  # RoPE's base: the slowest pair turns once in ~2π·rope_theta
    rms_norm_eps: float = 1e-5  # added to the mean square in RMSNorm
    tie_word_embeddings: bool = True  # lm_head shares embed_tokens' matrix (small models do)

    def __post_init__(self) -> None:
        store = object.__setattr__  # frozen: keep the checked values (a NumPy int becomes an int)
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_kv_head", "n_embd",
                     "intermediate_size"):
            store(self, name, check_int(name, getattr(self, name), minimum=1))
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise ValueError(f"n_embd={self.n_embd} must be n_head={self.n_head} times an even "
                             f"head size (RoPE turns pairs); e.g. n_embd={self.n_head * 64}")
        if self.n_head % self.n_kv_head:
            divisors = [h for h in range(1, self.n_head + 1) if self.n_head % h == 0]
            raise ValueError(f"n_kv_head={self.n_kv_head} must divide n_head={self.n_head}; "
                             f"use n_kv_head in {divisors}")
        store(self, "rope_theta", check_number("rope_theta", self.rope_theta, minimum=1,
                                               min_open=True, fix="Llama 2 uses 10000.0"))
        store(self, "rms_norm_eps", check_number("rms_norm_eps", self.rms_norm_eps, minimum=0,
                                                 min_open=True, fix="SmolLM2 uses 1e-5"))
        check_bool("tie_word_embeddings", self.tie_word_embeddings)

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


class Block(nn.Module):
    """One Llama block, pre-norm like GPT-2's: x + attention(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        C = config.n_embd
        self.input_layernorm = RMSNorm(C, eps=config.rms_norm_eps)
        self.self_attn = GroupedQueryAttention(C, config.n_head, config.n_kv_head)
        self.post_attention_layernorm = RMSNorm(C, eps=config.rms_norm_eps)
        self.mlp = SwiGLU(C, config.intermediate_size)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, kv_cache: StaticKVCache | None = None,
                layer: int = 0, key_padding: Tensor | None = None) -> Tensor:
        h = self.self_attn(self.input_layernorm(x), cos, sin, kv_cache, layer, key_padding)
        x = x + h  # tokens mix
        return x + self.mlp(self.post_attention_layernorm(x))  # each token on its own


def _num_parameters(c: LlamaConfig) -> int:
    """The parameter count of a Llama of config c, from the shapes alone."""
    kv = c.n_kv_head * c.head_dim
    per_block = 2 * c.n_embd * (c.n_embd + kv) + 3 * c.n_embd * c.intermediate_size + 2 * c.n_embd
    heads = 1 if c.tie_word_embeddings else 2
    return heads * c.vocab_size * c.n_embd + c.n_layer * per_block + c.n_embd


class Llama(nn.Module):
    """Llama: token embeddings, n_layer blocks, a final RMSNorm, an lm_head (tied or not).

    No position embeddings: positions enter each attention layer by rotating q and k. All
    randomness comes from `seed` (weights ~ N(0, 0.02²), as transformers initialises Llama;
    norms 1); the global RNG is left untouched."""

    def __init__(self, config: LlamaConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = check_type("config", config, LlamaConfig, "a LlamaConfig",
                                 fix="e.g. Llama(LlamaConfig(n_layer=4))")
        seed = check_seed("seed", seed)
        _check_storable(f"a Llama of {_num_parameters(config):,} parameters",
                        _num_parameters(config), "make the config smaller")
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            self.model = nn.ModuleDict(dict(
                embed_tokens=nn.Embedding(config.vocab_size, config.n_embd),
                layers=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
                norm=RMSNorm(config.n_embd, eps=config.rms_norm_eps),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_word_embeddings:  # as in GPT-2; saves vocab_size · n_embd parameters
            self.lm_head.weight = self.model.embed_tokens.weight
        weight = self.lm_head.weight  # on "meta" nothing is drawn, but a generator needs a device
        generator = torch.Generator("cpu" if weight.is_meta else weight.device).manual_seed(seed)
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)

    def num_parameters(self) -> int:
        """Return the number of parameters, counting a tied embedding/lm_head matrix once.

        >>> Llama(LlamaConfig(vocab_size=10, block_size=4, n_layer=1, n_head=2, n_kv_head=1,
        ...                   n_embd=4, intermediate_size=8)).num_parameters()
        196
        """
        return sum(p.numel() for p in self.parameters())  # a shared tensor is yielded once

    def forward(self, input_ids: Tensor, kv_cache: StaticKVCache | None = None, *,
                attention_mask: Tensor | None = None, position_ids: Tensor | None = None
                ) -> Tensor:
        """Return the logits (B, T, vocab_size) for token ids input_ids (B, T).

        With a `kv_cache`, input_ids continue the len(kv_cache) tokens cached before: their
        positions start there, they attend to the cached keys and values, and theirs are
        added. Feeding a prompt, then one token at a time, gives the logits of one forward
        pass over the whole text (to rounding). attention_mask (B, cached + T) and position_ids
        (B, T) mean what they mean in transformers, as in `GPT.forward`."""
        start = self._check_inputs(input_ids, kv_cache)
        weight = self.lm_head.weight
        key_padding, positions = padding_and_positions(input_ids, start, attention_mask,
                                                       position_ids)
        cos, sin = rope_tables(self.config.head_dim, positions, rope_theta=self.config.rope_theta,
                               dtype=weight.dtype)  # (T, hs) each, shared by every layer
        if positions.dim() == 2:  # (B, T, hs): one row of angles per sequence, for every head
            cos, sin = cos[:, None], sin[:, None]
        x = self.model.embed_tokens(input_ids)  # (B, T, C): no position embedding added
        for layer, block in enumerate(self.model.layers):
            x = block(x, cos, sin, kv_cache, layer, key_padding)  # (B, T, C)
        return self.lm_head(self.model.norm(x))  # (B, T, vocab_size)

    def _check_inputs(self, input_ids: object, kv_cache: object) -> int:
        """Return the position of input_ids' first token (len(kv_cache), or 0); raise, saying
        what to do, before any layer runs (as GPT._check_inputs does)."""
        c, weight = self.config, self.lm_head.weight
        check_token_ids(input_ids, "input_ids", vocab_size=c.vocab_size)
        if input_ids.device != weight.device:
            raise ValueError(f"input_ids is on {input_ids.device} but the model is on "
                             f"{weight.device}; use input_ids.to({str(weight.device)!r})")
        B, T = input_ids.shape
        start = 0
        if kv_cache is not None:
            check_type("kv_cache", kv_cache, StaticKVCache, "a StaticKVCache or None",
                       fix="make it with model.make_kv_cache(batch_size=..., max_len=...)")
            start = kv_cache.check_fits(batch_size=B, new_tokens=T, n_layer=c.n_layer,
                                        n_kv_head=c.n_kv_head, head_dim=c.head_dim,
                                        dtype=weight.dtype, device=weight.device)
        if start + T > c.block_size:
            raise ValueError(f"input_ids: T={T} after {start} cached tokens exceeds block_size="
                             f"{c.block_size}, the longest context the model was made for; keep "
                             f"the last ones, input_ids[:, -{c.block_size}:], without a cache")
        return start

    def make_kv_cache(self, *, batch_size: int, max_len: int) -> StaticKVCache:
        """Return an empty KV cache for batch_size sequences of up to max_len tokens, in the
        model's dtype and on its device; its memory is allocated now (`nbytes`).

        >>> with torch.device("meta"):  # shapes only: SmolLM2's cache without its weights
        ...     smollm2 = Llama(LlamaConfig())
        >>> cache = smollm2.make_kv_cache(batch_size=1, max_len=1)
        >>> cache.nbytes == kv_cache_bytes_per_token(LlamaConfig())  # 46,080 bytes a token
        True
        """
        c, weight = self.config, self.lm_head.weight
        max_len = check_int("max_len", max_len, minimum=1, maximum=c.block_size,
                            fix=f"the model reads at most block_size={c.block_size} tokens")
        return StaticKVCache(n_layer=c.n_layer, batch_size=batch_size, n_kv_head=c.n_kv_head,
                             max_len=max_len, head_dim=c.head_dim, dtype=weight.dtype,
                             device=weight.device)

    @classmethod
    def from_hf(cls, hf_model: LlamaForCausalLM) -> Llama:
        """Return a Llama (in eval mode) with the weights of a transformers `LlamaForCausalLM`.

        Same dtype and device as hf_model. Raises ValueError for a Llama variant this model does
        not implement (biases, RoPE scaling, another activation or head size) or on "meta"."""
        from transformers import LlamaForCausalLM

        check_type("hf_model", hf_model, LlamaForCausalLM, "a transformers LlamaForCausalLM",
                   fix="e.g. course_utils.pretrained.load_smollm2()[0]")
        weight = check_tensor("hf_model.model.embed_tokens.weight",
                              hf_model.model.embed_tokens.weight)  # refuses meta
        c = hf_model.config
        rope = dict(c.rope_parameters or {})
        head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        unsupported = {
            "attention_bias": c.attention_bias, "mlp_bias": c.mlp_bias,
            f"hidden_act={c.hidden_act!r}": c.hidden_act != "silu",
            f"rope_type={rope.get('rope_type')!r}": rope.get("rope_type", "default") != "default",
            f"head_dim={head_dim}": head_dim * c.num_attention_heads != c.hidden_size,
            "pretraining_tp > 1": getattr(c, "pretraining_tp", 1) != 1,
        }
        if any(unsupported.values()):
            found = [name for name, bad in unsupported.items() if bad]
            raise ValueError(f"this Llama variant has {found}, which Llama does not implement "
                             f"(no biases, SwiGLU with silu, plain RoPE, head_dim = n_embd/n_head)")
        config = LlamaConfig(
            vocab_size=c.vocab_size, block_size=c.max_position_embeddings,
            n_layer=c.num_hidden_layers, n_head=c.num_attention_heads,
            n_kv_head=c.num_key_value_heads, n_embd=c.hidden_size,
            intermediate_size=c.intermediate_size, rope_theta=rope.get("rope_theta", 10000.0),
            rms_norm_eps=c.rms_norm_eps, tie_word_embeddings=bool(c.tie_word_embeddings))
        model = cls(config).to(device=weight.device, dtype=weight.dtype)
        _copy_weights(hf_model.state_dict(), model.state_dict())  # names equal, shapes checked
        return model.eval()

    @classmethod
    def from_smollm2(cls) -> Llama:
        """Return SmolLM2-135M-Instruct as a float32 Llama, from the installed GGUF file.

        It goes through the course's one loading path, `course_utils.pretrained.load_smollm2`
        (transformers de-quantizes the 4-bit file, ~20 s); its tokenizer is load_smollm2()[1].
        """
        from course_utils.pretrained import load_smollm2

        return cls.from_hf(load_smollm2()[0])


def kv_cache_bytes_per_token(config: GPTConfig | LlamaConfig,
                             dtype: torch.dtype = torch.float32) -> int:
    """Return the bytes one token's keys and values take in a KV cache, over all layers.

    2 (k and v) · n_layer · key/value heads · head size · bytes per number: grouped-query
    attention caches n_kv_head heads, not n_head.

    >>> kv_cache_bytes_per_token(GPTConfig())  # GPT-2 small: 2 · 12 · 12 · 64 · 4
    73728
    >>> kv_cache_bytes_per_token(LlamaConfig(), torch.bfloat16)  # SmolLM2: 2 · 30 · 3 · 64 · 2
    23040
    """
    check_type("config", config, (GPTConfig, LlamaConfig), "a GPTConfig or a LlamaConfig")
    check_type("dtype", dtype, torch.dtype, "a torch.dtype", fix="e.g. torch.float32")
    kv_heads = getattr(config, "n_kv_head", config.n_head)  # GPT-2: every head has its own
    return 2 * config.n_layer * kv_heads * (config.n_embd // config.n_head) * dtype.itemsize


def gpt2_vs_llama(gpt2: GPTConfig | None = None, llama: LlamaConfig | None = None,
                  dtype: torch.dtype = torch.float32) -> list[tuple[str, str, str]]:
    """Return the rows (what, GPT-2, Llama) of a side-by-side table, each read off the models.

    The defaults are GPT-2 small and SmolLM2-135M. Both models are built on the meta device
    (shapes, no memory), so the numbers are counted from their modules, not typed.

    >>> for row in gpt2_vs_llama()[-2:]:
    ...     print(row)
    ('parameters', '124,439,808', '134,515,008')
    ('KV cache per token (float32)', '73,728 bytes', '46,080 bytes')
    """
    gpt2 = GPTConfig() if gpt2 is None else check_type("gpt2", gpt2, GPTConfig, "a GPTConfig")
    llama = LlamaConfig() if llama is None else check_type("llama", llama, LlamaConfig,
                                                           "a LlamaConfig")
    with torch.device("meta"):
        g, m = GPT(gpt2), Llama(llama)
    gb, mb = g.transformer.h[0], m.model.layers[0]
    wpe = g.transformer.wpe.weight

    def biases(model: nn.Module) -> str:
        return f"{sum(p.numel() for n, p in model.named_parameters() if n.endswith('bias')):,}"

    def tied(model: nn.Module, embedding: nn.Embedding) -> str:
        return "yes" if model.lm_head.weight is embedding.weight else "no"

    def norm(module: nn.Module) -> str:
        kept = [n for n, _ in module.named_parameters()]
        return f"{type(module).__name__} ({' + '.join(kept)})"

    attn = mb.self_attn
    return [
        ("positions", f"learned: wpe {tuple(wpe.shape)}, {wpe.numel():,} parameters",
         f"rotary: q, k turned by rope_theta={llama.rope_theta:g}, 0 parameters"),
        ("normalisation", norm(gb.ln_1), norm(mb.input_layernorm)),
        ("MLP", f"GELU, {gb.mlp.c_fc.out_features} wide, 2 matrices",
         f"SwiGLU, {mb.mlp.gate_proj.out_features} wide, 3 matrices"),
        ("attention", f"multi-head: {gb.attn.num_heads} query, {gb.attn.num_heads} key/value heads",
         f"grouped-query: {attn.n_head} query, {attn.n_kv_head} key/value heads"),
        ("bias parameters", biases(g), biases(m)),
        ("lm_head tied to the embedding", tied(g, g.transformer.wte),
         tied(m, m.model.embed_tokens)),
        ("parameters", f"{g.num_parameters():,}", f"{m.num_parameters():,}"),
        (f"KV cache per token ({str(dtype).removeprefix('torch.')})",
         f"{kv_cache_bytes_per_token(gpt2, dtype):,} bytes",
         f"{kv_cache_bytes_per_token(llama, dtype):,} bytes"),
    ]
