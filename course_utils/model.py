"""GPT-2, built from the course's attention: embeddings, pre-LayerNorm blocks, a tied output layer.

`GPT` is the decoder-only transformer of GPT-2 (Radford et al., 2019), in nanoGPT's layout and
with the parameter names of GPT-2's checkpoint (`transformer.h.0.attn.c_attn.weight`, ...), so
moving weights to and from Hugging Face's `GPT2LMHeadModel` is a matter of names:

- `GPT(GPTConfig(...), seed=0)` builds a model initialised like GPT-2, from `seed` only.
- `model(input_ids)` maps token ids (B, T) to logits (B, T, vocab_size): a score for every
  possible next token at every position.
- `GPT.from_hf(hf_model)` / `model.to_hf()` convert to and from `GPT2LMHeadModel` (same logits);
  `GPT.from_pretrained("gpt2")` loads OpenAI's weights from the Hugging Face hub.

Each block's attention is notebook 03's `MultiHeadAttention` (`course_utils.multihead`) with
`is_causal=True`: position t sees positions 0..t only, so every position learns to predict the
token after it. With a `KVCache`, `model(input_ids, kv_cache=cache)` keeps every layer's keys and
values, so that generation can feed only the new tokens. `attention_mask` and `position_ids`
take batches of prompts of different lengths, padded (`course_utils.batching`), as in
transformers. Left out: the loss and sampling.

>>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=2, n_embd=16))
>>> model(torch.tensor([[1, 2, 3]])).shape  # (B, T, vocab_size)
torch.Size([1, 3, 10])
>>> cache = KVCache()
>>> _ = model(torch.tensor([[1, 2]]), kv_cache=cache)  # fills the cache with 2 positions
>>> last = model(torch.tensor([[3]]), kv_cache=cache)  # feeds only token 3, at position 2
>>> torch.allclose(last[:, -1], model(torch.tensor([[1, 2, 3]]))[:, -1], atol=1e-6)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from course_utils.attention import _check_storable
from course_utils.batching import check_token_ids, padding_and_positions
from course_utils.multihead import KVCache, MultiHeadAttention
from course_utils.pretrained import GPT2_NAMES  # the names GPT.from_pretrained takes
from course_utils.validation import (check_bool, check_int, check_number, check_seed,
                                     check_tensor, check_type)

if TYPE_CHECKING:
    from transformers import GPT2LMHeadModel

__all__ = ["GPTConfig", "GPT", "KVCache", "GPT2_NAMES", "check_token_ids", "gelu_new"]

# Hugging Face's GPT-2 uses Conv1D, whose weight is stored (in, out); nn.Linear's is (out, in).
_CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
                   "mlp.c_proj.weight")


@dataclass(frozen=True)
class GPTConfig:
    """Hyperparameters of a GPT, checked when it is made. The defaults are GPT-2 small (124M).

    It is frozen, so no change can skip the checks: `dataclasses.replace(config, n_layer=4)`
    makes a changed copy, checked again."""

    vocab_size: int = 50257  # GPT-2's BPE: 256 bytes + 50,000 merges + <|endoftext|>
    block_size: int = 1024  # the longest context in tokens (= number of position embeddings)
    n_layer: int = 12  # transformer blocks
    n_head: int = 12  # attention heads per block; each has n_embd // n_head dimensions
    n_embd: int = 768  # width of the residual stream (embedding size)
    dropout: float = 0.0  # GPT-2 was trained with 0.1; 0.0 for small models and evaluation
    bias: bool = True  # biases in Linear and LayerNorm, like GPT-2 (False cannot go to_hf)
    layer_norm_epsilon: float = 1e-5  # added to the variance in LayerNorm, as in GPT-2

    def __post_init__(self) -> None:
        store = object.__setattr__  # frozen: keep the checked values (a NumPy int becomes an int)
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            store(self, name, check_int(name, getattr(self, name), minimum=1))
        if self.n_embd % self.n_head != 0:
            heads = [h for h in range(1, min(self.n_embd, 100) + 1) if self.n_embd % h == 0]
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}; "
                             f"use n_head in {heads[:12]} or n_embd a multiple of {self.n_head}")
        store(self, "dropout", check_number("dropout", self.dropout, minimum=0, maximum=1,
                                            max_open=True))
        check_bool("bias", self.bias)
        store(self, "layer_norm_epsilon", check_number(
            "layer_norm_epsilon", self.layer_norm_epsilon, minimum=0, min_open=True,
            fix="GPT-2 uses 1e-5"))


def gelu_new(x: Tensor) -> Tensor:
    """GPT-2's GELU, the tanh approximation of x·Φ(x), written as in GPT-2's code.

    This is the exact expression of transformers' "gelu_new", so logits match bit for bit;
    `F.gelu(x, approximate="tanh")` is the same function but rounds differently (≤ 2.4e-7).

    >>> gelu_new(torch.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1588,  0.0000,  0.8412])
    """
    check_tensor("x", x, kind="floating-point")
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi)
                                       * (x + 0.044715 * torch.pow(x, 3.0))))


class MLP(nn.Module):
    """Position-wise feed-forward layer: widen to 4·n_embd, GELU, project back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(gelu_new(self.c_fc(x))))  # (B, T, 4C) inside, (B, T, C) out


class Block(nn.Module):
    """One transformer block. Pre-LayerNorm (GPT-2's change from the original transformer):
    each sublayer reads a normalised copy and adds its result to the residual stream x."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.attn = MultiHeadAttention(config.n_embd, config.n_head, bias=config.bias,
                                       dropout=config.dropout)  # dropout on attention weights
        self.resid_dropout = nn.Dropout(config.dropout)  # GPT-2 also drops the attention's output
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, kv_cache: KVCache | None = None, layer: int = 0,
                key_padding: Tensor | None = None) -> Tensor:
        h = self.attn(self.ln_1(x), is_causal=True, kv_cache=kv_cache, layer=layer,
                      key_padding_mask=key_padding)  # key_padding: (B, S) bool or None
        x = x + self.resid_dropout(h)  # tokens exchange information (t sees 0..t only)
        return x + self.mlp(self.ln_2(x))  # each token is processed on its own


class GPT(nn.Module):
    """GPT-2: token + position embeddings, n_layer blocks, a final LayerNorm, a tied lm_head.

    All randomness comes from `seed` (see `init_weights`); the global RNG is left untouched."""

    def __init__(self, config: GPTConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = check_type("config", config, GPTConfig, "a GPTConfig",
                                 fix="e.g. GPT(GPTConfig(n_layer=4))")
        seed = check_seed("seed", seed)
        V, P, C, n = config.vocab_size, config.block_size, config.n_embd, config.n_layer
        _check_storable(f"a GPT of vocab_size={V}, block_size={P}, n_layer={n}, n_embd={C}",
                        (V + P + 2) * C + n * (12 * C * C + 13 * C), "make them smaller")
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embeddings
                wpe=nn.Embedding(config.block_size, config.n_embd),  # position embeddings
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
                ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying (as in GPT-2): the output layer scores token t by the dot product with t's
        # embedding, so tokens used alike get alike embeddings; it also saves vocab_size·n_embd.
        self.lm_head.weight = self.transformer.wte.weight
        self.init_weights(seed)

    @torch.no_grad()
    def init_weights(self, seed: int = 0) -> None:
        """Re-initialise every parameter like GPT-2, from `seed` alone.

        Weights ~ N(0, 0.02²), biases 0, LayerNorm gain 1. The projections that write into the
        residual stream (`c_proj`) get std 0.02/√(2·n_layer): the stream sums 2·n_layer of them,
        and this keeps its variance from growing with depth.
        """
        seed = check_seed("seed", seed)
        weight = self.lm_head.weight  # on "meta" nothing is drawn, but a generator needs a device
        generator = torch.Generator("cpu" if weight.is_meta else weight.device).manual_seed(seed)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)) and module is not self.lm_head:
                std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj") else 0.02
                nn.init.normal_(module.weight, mean=0.0, std=std, generator=generator)
            if isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def num_parameters(self, non_embedding: bool = False) -> int:
        """Return the number of parameters, counting the tied wte/lm_head matrix once.

        non_embedding=True leaves out wte and wpe: the count that scaling laws use (Kaplan
        et al., 2020), about 12·n_layer·n_embd².

        >>> config = GPTConfig(vocab_size=10, block_size=4, n_layer=1, n_head=1, n_embd=4)
        >>> GPT(config).num_parameters(), GPT(config).num_parameters(non_embedding=True)
        (308, 252)
        """
        check_bool("non_embedding", non_embedding)
        n = sum(p.numel() for p in self.parameters())  # parameters() yields a shared tensor once
        if non_embedding:
            n -= self.transformer.wte.weight.numel() + self.transformer.wpe.weight.numel()
        return n

    def forward(self, input_ids: Tensor, kv_cache: KVCache | None = None, *,
                attention_mask: Tensor | None = None, position_ids: Tensor | None = None
                ) -> Tensor:
        """Return the logits (B, T, vocab_size) for token ids input_ids (B, T).

        With a `kv_cache`, input_ids continues the cached tokens: its positions start at
        len(kv_cache), it attends to the cached tokens too, and its keys and values are appended
        to the cache. The logits equal those of the whole sequence without a cache, to rounding.
        attention_mask (B, cached + T; 1 real, 0 padding) and position_ids (B, T) mean what they
        mean in transformers (`course_utils.batching.padding_and_positions`): padding gets no
        attention, and positions default to the mask's count of real tokens.
        """
        past = self._check_inputs(input_ids, kv_cache)
        key_padding, pos = padding_and_positions(input_ids, past, attention_mask, position_ids,
                                                 max_position=self.config.block_size)
        x = self.transformer.wte(input_ids) + self.transformer.wpe(pos)  # (B, T, C) + (T, C)
        x = self.transformer.drop(x)  # (wpe(pos) is (B, T, C) with position_ids or a mask)
        for layer, block in enumerate(self.transformer.h):
            x = block(x, kv_cache, layer, key_padding)  # (B, T, C)
        return self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab_size)

    def _check_inputs(self, input_ids: object, kv_cache: KVCache | None) -> int:
        """Return the number of cached positions; raise, saying what to do, before any layer
        runs (so that a refused call leaves the cache as it was)."""
        c, weight = self.config, self.lm_head.weight
        check_token_ids(input_ids, "input_ids", vocab_size=c.vocab_size)
        if input_ids.device != weight.device:
            raise ValueError(f"input_ids is on {input_ids.device} but the model is on "
                             f"{weight.device}; use input_ids.to({str(weight.device)!r})")
        check_type("kv_cache", kv_cache, (KVCache, type(None)), "a KVCache or None")
        B, T = input_ids.shape
        past = 0 if kv_cache is None else kv_cache.check_fits(
            B, c.n_layer, c.n_head, c.n_embd // c.n_head, weight.dtype)
        if past + T > c.block_size:
            what, fix = ((f"{past} cached + {T} new tokens exceed", "start again from the last "
                          "tokens with a new KVCache()") if past else
                         (f"T={T} exceeds", f"keep the last ones, input_ids[:, -{c.block_size}:]"))
            raise ValueError(f"input_ids: {what} block_size={c.block_size}, the number of "
                             f"positions the model has; {fix}")
        return past

    @classmethod
    def from_hf(cls, hf_model: GPT2LMHeadModel) -> GPT:
        """Return a GPT (in eval mode) with the weights of a transformers `GPT2LMHeadModel`.

        Same dtype and device as hf_model. Raises ValueError for a GPT-2 variant this model does
        not implement (see the checks below); ValueError for a model on the meta device."""
        from transformers import GPT2LMHeadModel

        check_type("hf_model", hf_model, GPT2LMHeadModel, "a transformers GPT2LMHeadModel",
                   fix="for the course's own GPT there is nothing to convert")
        check_tensor("hf_model.transformer.wte.weight", hf_model.transformer.wte.weight)  # meta?
        c = hf_model.config
        unsupported = {
            "activation_function": c.activation_function not in ("gelu_new", "gelu_pytorch_tanh"),
            "scale_attn_weights=False": not c.scale_attn_weights,
            "scale_attn_by_inverse_layer_idx": c.scale_attn_by_inverse_layer_idx,
            "reorder_and_upcast_attn": c.reorder_and_upcast_attn,
            "add_cross_attention": c.add_cross_attention,
            "n_inner": c.n_inner is not None and c.n_inner != 4 * c.n_embd,
            "different resid/embd/attn_pdrop": len({c.resid_pdrop, c.embd_pdrop, c.attn_pdrop}) > 1,
            "untied lm_head": not torch.equal(hf_model.lm_head.weight,
                                              hf_model.transformer.wte.weight),
        }
        if any(unsupported.values()):
            found = [name for name, bad in unsupported.items() if bad]
            raise ValueError(f"this GPT-2 variant has {found}, which GPT does not implement (it "
                             f"is GPT-2 as released: gelu_new, n_inner=4·n_embd, tied embeddings)")
        config = GPTConfig(vocab_size=c.vocab_size, block_size=c.n_positions, n_layer=c.n_layer,
                           n_head=c.n_head, n_embd=c.n_embd, dropout=c.resid_pdrop,
                           layer_norm_epsilon=c.layer_norm_epsilon)
        weight = hf_model.transformer.wte.weight
        model = cls(config).to(device=weight.device, dtype=weight.dtype)
        _copy_weights(hf_model.state_dict(), model.state_dict())
        return model.eval()

    def to_hf(self) -> GPT2LMHeadModel:
        """Return a transformers `GPT2LMHeadModel` (in eval mode) with this model's weights.

        >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8))
        >>> hf_model = model.to_hf()
        >>> input_ids = torch.tensor([[1, 2, 3]])
        >>> torch.allclose(model(input_ids), hf_model(input_ids).logits, atol=1e-6)
        True
        >>> torch.equal(GPT.from_hf(hf_model).lm_head.weight, model.lm_head.weight)
        True
        """
        from transformers import GPT2Config, GPT2LMHeadModel

        c = self.config
        if not c.bias:
            raise ValueError("GPT2LMHeadModel always has biases; to_hf needs GPTConfig(bias=True)")
        eos = 50256 if c.vocab_size > 50256 else None  # <|endoftext|>, if the vocab has it
        hf_config = GPT2Config(
            vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
            n_head=c.n_head, n_inner=None, activation_function="gelu_new",
            resid_pdrop=c.dropout, embd_pdrop=c.dropout, attn_pdrop=c.dropout,
            layer_norm_epsilon=c.layer_norm_epsilon, tie_word_embeddings=True,
            bos_token_id=eos, eos_token_id=eos)
        with torch.random.fork_rng(devices=[]):  # its random init is overwritten below anyway
            hf_model = GPT2LMHeadModel(hf_config)
        weight = self.transformer.wte.weight
        hf_model.to(device=weight.device, dtype=weight.dtype)
        _copy_weights(self.state_dict(), hf_model.state_dict())
        return hf_model.eval()

    @classmethod
    def from_pretrained(cls, name: str = "gpt2") -> GPT:
        """Return OpenAI's GPT-2 (`name` in GPT2_NAMES) loaded from the Hugging Face hub.

        The first call downloads the weights (0.5 to 6 GB) into Hugging Face's cache; later
        calls read the cache. Raises OSError, saying what to do, when neither is possible
        (see `course_utils.pretrained.gpt2_from_hub`, which loads it).
        """
        from course_utils.pretrained import gpt2_from_hub

        return cls.from_hf(gpt2_from_hub(name))


@torch.no_grad()
def _copy_weights(source: dict[str, Tensor], target: dict[str, Tensor]) -> None:
    """Copy source into target by name (both GPT-2 checkpoint names), transposing Conv1D weights."""
    if any(tensor.is_meta for tensor in source.values()):  # copying from meta copies nothing
        raise ValueError("the model to convert is on the meta device: it has shapes but no "
                         "weights; build or load it on a real device such as 'cpu'")
    missing, extra = sorted(target.keys() - source.keys()), sorted(source.keys() - target.keys())
    if missing or extra:
        raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
    for name, tensor in target.items():
        value = source[name].t() if name.endswith(_CONV1D_WEIGHTS) else source[name]
        if value.shape != tensor.shape:
            raise ValueError(f"{name}: shape {tuple(value.shape)} does not fit "
                             f"{tuple(tensor.shape)}")
        tensor.copy_(value)
