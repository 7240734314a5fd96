"""A preallocated KV cache for grouped-query attention: memory known, and paid, up front.

Generating one token at a time, a model recomputes nothing if it keeps every layer's keys and
values of the tokens so far. `course_utils.multihead.KVCache` (the course GPT's) appends them
with `torch.cat`, which copies the whole cache at every step and lets it grow without bound.
`StaticKVCache` adds what a server needs instead:

- keys and values of shape (n_layer, B, n_kv_head, max_len, head_dim) each, allocated once
  in the model's dtype and device; each step writes its positions in place (no copies);
- `len(cache)`, the number of positions filled, which is also where the next tokens go (the
  model starts their rotary positions there);
- `nbytes`, the memory it holds: 2 · n_layer · B · n_kv_head · max_len · head_dim · bytes per
  number. Grouped-query attention caches n_kv_head heads, not n_head: SmolLM2's 3 instead of 9
  make its cache 3 times smaller;
- a clear error before a step would overflow max_len, or when the input's batch or the model's
  shape does not fit the cache (instead of wrong answers half-way through the layers).

`Llama.make_kv_cache(batch_size=..., max_len=...)` (`course_utils.llama`) makes one for a
model, and `Llama.forward(input_ids, kv_cache=cache)` uses it. Left out: paged caches (blocks
allocated as sequences grow, as vLLM does), quantized caches, evicting old positions (sliding
windows), and per-row lengths: a left-padded batch caches its padding too, and the model's
attention mask (`course_utils.batching`) keeps it out of the attention.

>>> cache = StaticKVCache(n_layer=1, batch_size=1, n_kv_head=2, max_len=4, head_dim=3)
>>> k, v = cache.update(0, torch.ones(1, 2, 3, 3), torch.ones(1, 2, 3, 3))  # a 3-token prompt
>>> k.shape, len(cache)  # (B, n_kv_head, positions so far, head_dim)
(torch.Size([1, 2, 3, 3]), 3)
>>> k, v = cache.update(0, torch.zeros(1, 2, 1, 3), torch.zeros(1, 2, 1, 3))  # one more token
>>> k[0, 0, :, 0], len(cache)
(tensor([1., 1., 1., 0.]), 4)
"""

from __future__ import annotations

import torch
from torch import Tensor

from course_utils.attention import _check_storable
from course_utils.validation import check_device, check_int, check_tensor, check_type

__all__ = ["StaticKVCache"]


class StaticKVCache:
    """Keys and values of every layer for up to max_len positions of batch_size sequences.

    `keys` and `values` are (n_layer, B, n_kv_head, max_len, head_dim) tensors; only their
    first `len(self)` positions are read (the rest is zero when new or cropped, and stale after
    `reset`). `update(layer, k, v)` writes a step's keys and values after the cached ones;
    the last layer's update moves the length on, so a call that fails half-way through the
    layers leaves the cache as it was. One cache serves one batch and one model shape.

    >>> cache = StaticKVCache(n_layer=2, batch_size=1, n_kv_head=3, max_len=10, head_dim=4)
    >>> cache.keys.shape, cache.nbytes  # 2 tensors · 2·1·3·10·4 numbers · 4 bytes
    (torch.Size([2, 1, 3, 10, 4]), 1920)
    """

    def __init__(self, *, n_layer: int, batch_size: int, n_kv_head: int, max_len: int,
                 head_dim: int, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        shape = tuple(check_int(name, value, minimum=1) for name, value in (
            ("n_layer", n_layer), ("batch_size", batch_size), ("n_kv_head", n_kv_head),
            ("max_len", max_len), ("head_dim", head_dim)))
        check_type("dtype", dtype, torch.dtype, "a torch.dtype", fix="e.g. torch.float32")
        if not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating-point dtype (the model's), got {dtype}")
        device = check_device("device", device, allow_meta=True)
        count = 2 * n_layer * batch_size * n_kv_head * max_len * head_dim
        _check_storable(f"a KV cache of {count:,} numbers", count, "make max_len or "
                        "batch_size smaller", itemsize=dtype.itemsize, device=device)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)  # (L, B, nkv, max_len, hs)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.length = 0  # positions filled in every layer

    def __len__(self) -> int:
        """The number of cached positions (0 when empty)."""
        return self.length

    def __repr__(self) -> str:
        n_layer, B, nkv, max_len, hs = self.keys.shape
        return (f"StaticKVCache(n_layer={n_layer}, batch_size={B}, n_kv_head={nkv}, "
                f"max_len={max_len}, head_dim={hs}, dtype={self.dtype}, length={self.length}, "
                f"nbytes={self.nbytes:,})")

    @property
    def max_len(self) -> int:
        """The most positions the cache can hold."""
        return self.keys.size(3)

    @property
    def dtype(self) -> torch.dtype:
        return self.keys.dtype

    @property
    def nbytes(self) -> int:
        """The bytes the cache holds, keys and values, whether filled or not.

        One position of one sequence takes `course_utils.llama.kv_cache_bytes_per_token`;
        for SmolLM2 (30 layers, 3 key/value heads of 64) in bfloat16:

        >>> StaticKVCache(n_layer=30, batch_size=1, n_kv_head=3, max_len=1, head_dim=64,
        ...               dtype=torch.bfloat16).nbytes  # 2 · 30 · 3 · 64 · 2
        23040
        """
        return self.keys.nbytes + self.values.nbytes

    def reset(self) -> None:
        """Forget the cached positions (the memory stays allocated, for the next prompt)."""
        self.length = 0

    def crop(self, length: int) -> None:
        """Keep the first `length` cached positions and zero the rest: the next tokens go to
        position `length` (speculative decoding drops rejected draft tokens so).

        >>> cache = StaticKVCache(n_layer=1, batch_size=1, n_kv_head=1, max_len=4, head_dim=1)
        >>> _ = cache.update(0, torch.ones(1, 1, 3, 1), torch.ones(1, 1, 3, 1))
        >>> cache.crop(1)
        >>> len(cache), cache.keys.flatten()
        (1, tensor([1., 0., 0., 0.]))
        """
        length = check_int("length", length, minimum=0, maximum=self.length,
                           fix=f"the cache holds {self.length} positions; drop n with "
                               f"len(cache) - n")
        self.keys[:, :, :, length:self.length] = 0  # (L, B, nkv, dropped, hs)
        self.values[:, :, :, length:self.length] = 0
        self.length = length

    def check_fits(self, *, batch_size: int, new_tokens: int, n_layer: int, n_kv_head: int,
                   head_dim: int, dtype: torch.dtype, device: torch.device) -> int:
        """Return len(self), where new_tokens positions of a model of that shape would go;
        else a ValueError saying what to change.

        A model calls it before its first layer runs, so that a misfit fails at once.

        >>> cache = StaticKVCache(n_layer=1, batch_size=1, n_kv_head=1, max_len=2, head_dim=2)
        >>> cache.check_fits(batch_size=1, new_tokens=2, n_layer=1, n_kv_head=1, head_dim=2,
        ...                  dtype=torch.float32, device=torch.device("cpu"))
        0
        """
        ours = (self.keys.size(0), self.keys.size(2), self.keys.size(4), self.dtype,
                self.keys.device)
        if (n_layer, n_kv_head, head_dim, dtype, device) != ours:
            raise ValueError(f"kv_cache holds {ours[0]} layers of {ours[1]} key/value heads of "
                             f"size {ours[2]} ({ours[3]}, on {ours[4]}), not the model's "
                             f"{n_layer}, {n_kv_head}, {head_dim} ({dtype}, on {device}); make "
                             f"it with model.make_kv_cache(batch_size=..., max_len=...)")
        B = self.keys.size(1)
        if batch_size != B:
            raise ValueError(f"the input has batch size {batch_size} but kv_cache holds {B} "
                             f"sequences; make a cache with batch_size={batch_size}")
        self._check_room(new_tokens)
        return self.length

    def _check_room(self, new_tokens: int) -> None:
        if self.length + new_tokens > self.max_len:
            raise ValueError(f"kv_cache holds {self.length} of its max_len={self.max_len} "
                             f"positions: {new_tokens} more would overflow it; make a cache "
                             f"with max_len >= {self.length + new_tokens}, or cache.reset() "
                             f"to start a new text")

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write the new keys and values (B, n_kv_head, T_new, head_dim) of `layer` after the
        cached ones; return all of them, (B, n_kv_head, len(self) + T_new, head_dim) each.

        The returned tensors are views of the cache: no copy. Updating the last layer moves
        `len(self)` on by T_new."""
        n_layer, B, nkv, _, hs = self.keys.shape
        layer = check_int("layer", layer, minimum=0, maximum=n_layer - 1,
                          fix=f"the cache holds layers 0..{n_layer - 1}")
        for name, x in (("k", k), ("v", v)):
            check_tensor(name, x, ndim=4, kind="floating-point", shape="(B, nkv, T, hs)")
            if (x.size(0), x.size(1), x.size(3)) != (B, nkv, hs) or x.shape != k.shape:
                raise ValueError(f"{name} must be (B, n_kv_head, T, head_dim) = ({B}, {nkv}, T, "
                                 f"{hs}) like the cache (and k), got {tuple(x.shape)}")
            if (x.dtype, x.device) != (self.dtype, self.keys.device):
                raise TypeError(f"{name} is {x.dtype} on {x.device} but the cache holds "
                                f"{self.dtype} on {self.keys.device}; use "
                                f"{name}.to({self.dtype}) or a cache of the model's dtype")
        start, end = self.length, self.length + k.size(2)
        self._check_room(k.size(2))
        self.keys[layer, :, :, start:end] = k  # in place: the step's positions
        self.values[layer, :, :, start:end] = v
        if layer == n_layer - 1:  # every layer has them now
            self.length = end
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def reorder(self, index: Tensor) -> None:
        """Keep the sequences (rows) `index` of the batch, in that order; rows may repeat, the
        batch size stays (beam search: a beam that continues another's text takes its cache).

        >>> cache = StaticKVCache(n_layer=1, batch_size=2, n_kv_head=1, max_len=1, head_dim=1)
        >>> _ = cache.update(0, torch.tensor([[[[1.0]]], [[[2.0]]]]), torch.zeros(2, 1, 1, 1))
        >>> cache.reorder(torch.tensor([1, 1]))
        >>> cache.keys.flatten()
        tensor([2., 2.])
        """
        B = self.keys.size(1)
        check_tensor("index", index, ndim=1, kind="integer", shape="(B,)")
        if index.numel() != B or (index.numel() and not 0 <= int(index.min())
                                  <= int(index.max()) < B):
            raise ValueError(f"index must hold {B} rows, each in 0..{B - 1}, got "
                             f"{index.tolist()[:10]}")
        index = index.to(self.keys.device)
        self.keys.copy_(self.keys.index_select(1, index))  # same memory, rows rearranged
        self.values.copy_(self.values.index_select(1, index))
