"""Multi-head attention: learned projections around `course_utils.attention`, and a KV cache.

`MultiHeadAttention` is the one attention layer of the course: notebook 03 builds it and
checks it against `torch.nn.MultiheadAttention`, and every block of `course_utils.model.GPT`
uses it. Its parameters have GPT-2's names, so GPT's weights load by name:

- `c_attn`, one (3C, C) linear map that makes the queries, keys and values in one matrix
  product (torch's `nn.MultiheadAttention` stacks them the same way in `in_proj_weight`);
- `c_proj`, the (C, C) linear map that mixes the heads' outputs (torch's `out_proj`).

In between: split C into nh heads of hs = C // nh channels (`split_heads`), attend in each head
on its own (`scaled_dot_product_attention`), and put the heads side by side (`merge_heads`).

`KVCache` holds the keys and values of the tokens seen so far, for generation. The keys and
values of a token never change once computed (with a causal mask, position t sees 0..t only),
so a model that generates one token at a time need not recompute them: it feeds only the new
tokens, whose queries attend to the cached keys and to their own. Those L new queries come
after S - L cached positions, so query i may see keys 0..S-L+i: the causal mask aligned
bottom-right, the last L rows of causal_mask(S).

Left out: grouped-query attention (several heads sharing keys and values), rotary position
embeddings, and torch's options kdim/vdim, add_bias_kv and add_zero_attn.

>>> mha = MultiHeadAttention(embed_dim=8, num_heads=2)
>>> x = torch.randn(1, 5, 8, generator=torch.Generator().manual_seed(0))
>>> cache = KVCache()
>>> first = mha(x[:, :3], is_causal=True, kv_cache=cache)  # keys and values of tokens 0..2
>>> last = mha(x[:, 3:], is_causal=True, kv_cache=cache)  # tokens 3, 4 see tokens 0..4
>>> torch.allclose(torch.cat([first, last], dim=1), mha(x, is_causal=True), atol=1e-6)
True
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.attention import (_check_mask, _check_storable, attention_weights,
                                    causal_mask, merge_heads, scaled_dot_product_attention,
                                    split_heads)
from course_utils.validation import (check_bool, check_int, check_number, check_same_device,
                                     check_seed, check_tensor, check_type)

__all__ = ["MultiHeadAttention", "KVCache"]

_NEW_CACHE = "use a new KVCache() for another batch or another model"


class KVCache:
    """The keys and values of every layer for the tokens seen so far (the "KV cache").

    Create it empty and pass it to `GPT.forward(input_ids, kv_cache=cache)` (or to
    `MultiHeadAttention.forward`): each call appends its tokens' keys and values, in place, and
    its tokens are placed after the cached ones. Each layer holds k and v of shape
    (B, nh, T, hs); `len(cache)` is T, the number of positions cached. One cache serves one
    batch of sequences and one model.

    >>> cache = KVCache()
    >>> cache.update(0, torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))[0].shape
    torch.Size([1, 2, 3, 4])
    >>> _ = cache.update(0, torch.ones(1, 2, 1, 4), torch.ones(1, 2, 1, 4))
    >>> len(cache)
    4
    """

    def __init__(self) -> None:
        self.keys: list[Tensor] = []  # one (B, nh, T, hs) tensor per layer
        self.values: list[Tensor] = []

    def __len__(self) -> int:
        """The number of cached positions T (0 when empty)."""
        return self.length(0)

    def length(self, layer: int) -> int:
        """The number of positions cached for `layer` (0 until a call has reached it)."""
        layer = check_int("layer", layer, minimum=0)
        return self.keys[layer].size(2) if layer < len(self.keys) else 0

    def check_fits(self, batch_size: int, n_layer: int, n_head: int, head_size: int,
                   dtype: torch.dtype) -> int:
        """Return len(self) if the cache is empty or holds the keys and values of `batch_size`
        sequences from a model of that shape; else a ValueError saying to start a new cache.

        A model calls it before its first layer runs: a cache filled for another batch or by
        another model would otherwise give wrong answers or fail half-way through the layers.
        """
        for name, value in (("batch_size", batch_size), ("n_layer", n_layer), ("n_head", n_head),
                            ("head_size", head_size)):
            check_int(name, value, minimum=1)
        check_type("dtype", dtype, torch.dtype, "a torch.dtype", fix="e.g. torch.float32")
        if not self.keys:
            return 0
        b, nh, T, hs = self.keys[0].shape
        if b != batch_size:
            raise ValueError(f"the input has batch size {batch_size} but kv_cache holds {b} "
                             f"sequences; use a new KVCache() for a new batch")
        if ((len(self.keys), nh, hs, self.keys[0].dtype) != (n_layer, n_head, head_size, dtype)
                or any(k.size(2) != T for k in self.keys)):
            raise ValueError(f"kv_cache holds {len(self.keys)} layers of {nh} heads of size {hs} "
                             f"({self.keys[0].dtype}), not the model's {n_layer}, {n_head}, "
                             f"{head_size} ({dtype}), or a call stopped half-way through "
                             f"the layers; {_NEW_CACHE}")
        return T

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append the new keys and values (B, nh, T_new, hs) of `layer`; return all of them.

        Layers are filled in order by the first call (layer 0, 1, ...); later calls extend them.
        """
        layer = check_int("layer", layer, minimum=0, maximum=len(self.keys),
                          fix=f"the cache holds {len(self.keys)} layers, filled in order")
        for name, x in (("k", k), ("v", v)):
            check_tensor(name, x, ndim=4, kind="floating-point", shape="(B, nh, T, hs)")
        check_same_device(k=k, v=v)
        if v.shape != k.shape or v.dtype != k.dtype:
            raise ValueError(f"v must have k's shape {tuple(k.shape)} and dtype {k.dtype}, got "
                             f"{tuple(v.shape)} and {v.dtype}")
        if self.keys:
            cached = self.keys[layer if layer < len(self.keys) else 0]  # (B, nh, T, hs)
            B, nh, T, hs = cached.shape
            if (k.size(0), k.size(1), k.size(3), k.dtype, k.device) != (
                    B, nh, hs, cached.dtype, cached.device):
                raise ValueError(f"k of shape (B, nh, T, hs) = {tuple(k.shape)}, {k.dtype} on "
                                 f"{k.device} does not continue the cache's (B, nh, hs) = "
                                 f"{(B, nh, hs)}, {cached.dtype} on {cached.device}; {_NEW_CACHE}")
            if layer == len(self.keys) and k.size(2) != T:
                raise ValueError(f"layer {layer} would start with {k.size(2)} positions while "
                                 f"the layers before it hold {T}; {_NEW_CACHE}")
        if layer == len(self.keys):  # the first call fills the cache layer by layer
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=2)  # (B, nh, T + T_new, hs)
            self.values[layer] = torch.cat([self.values[layer], v], dim=2)
        return self.keys[layer], self.values[layer]

    def reorder(self, index: Tensor) -> None:
        """Keep the sequences (rows) `index` of the batch, in that order; rows may repeat.

        Beam search uses it: when a beam continues another beam's text, it takes that beam's
        keys and values too.
        """
        check_tensor("index", index, ndim=1, kind="integer", shape="(B,)")
        if index.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"index must be int64 or int32, got {index.dtype}; use index.long()")
        if self.keys and index.device != self.keys[0].device:
            device = self.keys[0].device
            raise ValueError(f"index must be on the cache's device {device}, got "
                             f"{index.device}; use index.to({str(device)!r})")
        B = self.keys[0].size(0) if self.keys else None
        if B is not None and index.numel() and not 0 <= int(index.min()) <= int(index.max()) < B:
            raise ValueError(f"index must hold rows 0..{B - 1} of the cached batch, got "
                             f"{index.tolist()[:10]}")
        self.keys = [k.index_select(0, index) for k in self.keys]
        self.values = [v.index_select(0, index) for v in self.values]

    def crop(self, length: int) -> None:
        """Keep the first `length` positions of every layer and drop the rest (speculative
        decoding drops the keys and values of rejected draft tokens so).

        >>> cache = KVCache()
        >>> _ = cache.update(0, torch.zeros(1, 2, 5, 4), torch.zeros(1, 2, 5, 4))
        >>> cache.crop(3)
        >>> len(cache)
        3
        """
        length = check_int("length", length, minimum=0, maximum=len(self),
                           fix=f"the cache holds {len(self)} positions; drop n with len(cache) - n")
        self.keys = [k[:, :, :length] for k in self.keys]  # (B, nh, length, hs) views
        self.values = [v[:, :, :length] for v in self.values]


class MultiHeadAttention(nn.Module):
    """Multi-head attention over batch-first (B, T, C) inputs, with the same math as
    `nn.MultiheadAttention(batch_first=True)`.

    Each head attends in its own hs = C // nh dimensional subspace; the heads are concatenated
    and mixed by `c_proj`. Masks use this module's convention (True = may attend), the
    opposite of `nn.MultiheadAttention`. A query that may attend to no key gets zeros from the
    attention (so c_proj.bias as output), as `nn.MultiheadAttention` does with
    need_weights=False; with need_weights=True (its default) it gives NaN there. Weights are
    initialised from `seed` like torch's (Xavier-uniform c_attn, nn.Linear's own init for
    c_proj, zero biases); the global RNG is left untouched. `dropout` applies to the attention
    weights while training, as in torch.

    >>> mha = MultiHeadAttention(embed_dim=8, num_heads=2)
    >>> x = torch.randn(1, 5, 8, generator=torch.Generator().manual_seed(0))
    >>> out, weights = mha(x, is_causal=True, need_weights=True)
    >>> out.shape, weights.shape  # weights: (B, nh, L, S), one matrix per head
    (torch.Size([1, 5, 8]), torch.Size([1, 2, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, *, bias: bool = True,
                 dropout: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        embed_dim = check_int("embed_dim", embed_dim, minimum=1)
        num_heads = check_int("num_heads", num_heads, minimum=1)
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} must be a multiple of num_heads="
                             f"{num_heads}, so that every head has the same size")
        check_bool("bias", bias)
        _check_storable(f"MultiHeadAttention(embed_dim={embed_dim})'s weights",
                        4 * embed_dim * (embed_dim + 1), "use a smaller embed_dim")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.dropout = check_number("dropout", dropout, minimum=0, maximum=1, max_open=True)
        generator = torch.Generator().manual_seed(check_seed("seed", seed))
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)  # q, k, v: (3C, C)
            self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # mixes the heads
        with torch.no_grad():
            nn.init.xavier_uniform_(self.c_attn.weight, generator=generator)
            nn.init.kaiming_uniform_(self.c_proj.weight, a=math.sqrt(5), generator=generator)
            for linear in (self.c_attn, self.c_proj):
                if bias:
                    nn.init.zeros_(linear.bias)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None, *,
                attn_mask: Tensor | None = None, is_causal: bool = False,
                key_padding_mask: Tensor | None = None, need_weights: bool = False,
                kv_cache: KVCache | None = None, layer: int = 0) -> Tensor | tuple[Tensor, Tensor]:
        """Return the output (B, L, C), or (output, weights (B, nh, L, S)) if need_weights.

        key defaults to query (self-attention) and value to key. attn_mask broadcasts to
        (B, nh, L, S): (L, S), (B, 1, L, S) or (B, nh, L, S); bool (True = may attend) or float
        (added). key_padding_mask is a bool (B, S) tensor, True for real tokens, False for padding.
        With a `kv_cache` (self-attention only), the keys and values of `query` are appended to
        the cache's `layer` and the queries attend to all of them: S = cached + L, and
        is_causal aligns the mask bottom-right (see the module doc).
        """
        key = query if key is None else key
        value = key if value is None else value
        B, L, S, past = self._check_inputs(query, key, value, kv_cache, layer)
        check_bool("need_weights", need_weights)
        attn_mask, is_causal = self._one_mask(attn_mask, is_causal, key_padding_mask,
                                              (B, L, S, past), query)
        q, k, v = self._project(query, key, value)  # (B, nh, L, hs), (B, nh, S - past, hs) x2
        if kv_cache is not None:
            k, v = kv_cache.update(layer, k, v)  # the cached ones too: (B, nh, S, hs)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            weights = attention_weights(q, k, attn_mask, is_causal)  # (B, nh, L, S)
            y = F.dropout(weights, p=dropout_p) @ v  # dropout after the returned weights
        else:
            y = scaled_dot_product_attention(q, k, v, attn_mask, is_causal, dropout_p=dropout_p)
        out = self.c_proj(merge_heads(y))  # (B, nh, L, hs) -> (B, L, C) -> (B, L, C)
        return (out, weights) if need_weights else out

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        """Return q, k, v split into heads: (B, nh, L, hs), (B, nh, S, hs), (B, nh, S, hs)."""
        C = self.embed_dim
        if key is query and value is query:  # self-attention: one product makes q, k and v
            q, k, v = self.c_attn(query).split(C, dim=-1)  # each (B, T, C)
        else:  # cross-attention: the same three maps, each applied to its own input
            biases = (None,) * 3 if self.c_attn.bias is None else self.c_attn.bias.split(C)
            q, k, v = (F.linear(x, w, b) for x, w, b in
                       zip((query, key, value), self.c_attn.weight.split(C), biases))
        return tuple(split_heads(t, self.num_heads) for t in (q, k, v))

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor,
                      kv_cache: KVCache | None, layer: int) -> tuple[int, int, int, int]:
        """Return (B, L, S, past); raise, saying what to change, before anything is computed."""
        weight = self.c_attn.weight
        for name, x in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, x, ndim=3, kind="floating-point", shape=f"(B, T, {self.embed_dim})")
            if x.size(-1) != self.embed_dim:
                raise ValueError(f"{name} must be (B, T, {self.embed_dim}), the module's "
                                 f"embed_dim, got {tuple(x.shape)}")
            if x.dtype != weight.dtype:
                raise TypeError(f"{name} must have the module's dtype {weight.dtype}, got "
                                f"{x.dtype}; use {name}.to({weight.dtype})")
            if x.device != weight.device:
                raise ValueError(f"{name} must be on the module's device {weight.device}, got "
                                 f"{x.device}; use {name}.to({str(weight.device)!r})")
        if key.shape[:2] != value.shape[:2] or key.size(0) != query.size(0):
            raise ValueError(f"query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} must share B, and key and value must share S")
        layer = check_int("layer", layer, minimum=0)
        past = 0
        if kv_cache is not None:
            check_type("kv_cache", kv_cache, KVCache, "a KVCache or None")
            if key is not query or value is not query:
                raise ValueError("kv_cache caches self-attention only: leave key and value None")
            past = kv_cache.length(layer)
        return query.size(0), query.size(1), past + key.size(1), past

    def _one_mask(self, attn_mask: Tensor | None, is_causal: bool,
                  key_padding_mask: Tensor | None, sizes: tuple[int, int, int, int],
                  query: Tensor) -> tuple[Tensor | None, bool]:
        """Return (attn_mask, is_causal) for the attention call: the masks given, checked before
        the cache changes, with the cache's bottom-right causal mask and the padding folded in."""
        B, L, S, past = sizes
        check_bool("is_causal", is_causal)
        if attn_mask is not None:
            if is_causal:
                raise ValueError("attn_mask and is_causal=True: give one, not both; to combine "
                                 "them, pass attn_mask & causal_mask(L, S)")
            _check_mask(attn_mask, query, (B, self.num_heads, L, S))
        if is_causal and past > 0:  # L new queries after `past` cached keys: see the module doc
            # (one new token may see every key: no mask at all)
            attn_mask = causal_mask(S, device=query.device)[past:] if L > 1 else None
            is_causal = False
        if key_padding_mask is None:
            return attn_mask, is_causal
        check_tensor("key_padding_mask", key_padding_mask, kind="bool",
                     fix="True for real tokens, False for padding")
        check_same_device(query=query, key_padding_mask=key_padding_mask)
        if key_padding_mask.shape != (B, S):
            raise ValueError(f"key_padding_mask must be (B, S) = ({B}, {S}), got "
                             f"{tuple(key_padding_mask.shape)}")
        if is_causal:
            attn_mask = causal_mask(L, S, device=query.device)
        keep = key_padding_mask[:, None, None, :]  # (B, 1, 1, S): the same keys for every query
        if attn_mask is None:
            return keep, False
        if attn_mask.dtype == torch.bool:
            return attn_mask & keep, False
        return attn_mask.masked_fill(~keep, float("-inf")), False

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Return a MultiHeadAttention with mha's weights; it matches mha(batch_first=True).

        torch stacks the three input projections in one (3C, C) `in_proj_weight`, as c_attn
        does: the copy is one to one.

        >>> theirs = nn.MultiheadAttention(8, 2, batch_first=True)
        >>> ours = MultiHeadAttention.from_torch(theirs)
        >>> x = torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(0))
        >>> torch.allclose(ours(x), theirs(x, x, x, need_weights=False)[0], atol=1e-6)
        True
        """
        check_type("mha", mha, nn.MultiheadAttention, "a torch.nn.MultiheadAttention")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise NotImplementedError("kdim/vdim other than embed_dim, add_bias_kv and "
                                      "add_zero_attn are not supported")
        bias = mha.in_proj_bias is not None
        ours = cls(mha.embed_dim, mha.num_heads, bias=bias, dropout=mha.dropout)
        ours.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            ours.c_attn.weight.copy_(mha.in_proj_weight)
            ours.c_proj.weight.copy_(mha.out_proj.weight)
            if bias:
                ours.c_attn.bias.copy_(mha.in_proj_bias)
                ours.c_proj.bias.copy_(mha.out_proj.bias)
        return ours.train(mha.training)
