"""Under-trained tokens: rows of an embedding matrix that training (almost) never updated.

A token that the model's training text (almost) never holds gets (almost) no gradient of its
own: as an input it is never seen, and as a prediction it is only ever pushed down, as every
other unseen token is. Such rows drift together. With tokens known never to occur as the
reference, the rows nearest to theirs are the candidates. `smollm2_embeddings` reads SmolLM2's
matrix straight from its GGUF file with the `gguf` package, without loading the model.

What it leaves out: confirming a candidate by prompting the model (notebook 01 only counts how
often the candidates occur in text), and other indicators, such as the output layer's bias or
a token's training frequency, that need what a released model file does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from course_utils.validation import check_int, short_repr

__all__ = ["smollm2_embeddings", "nearest_rows", "lowest_norms"]


def _rows(embeddings: Any) -> Any:
    """`embeddings` as a float64 (V, C) NumPy matrix, else ValueError naming the argument."""
    import numpy as np

    try:
        rows = np.asarray(embeddings, dtype=np.float64)
    except (TypeError, ValueError):
        rows = None
    if rows is None or rows.ndim != 2 or not rows.size:
        raise ValueError("embeddings must be a (vocab_size, n_embd) matrix of numbers, got "
                         f"{short_repr(embeddings)}")
    return rows


def smollm2_embeddings() -> Any:
    """SmolLM2's token embedding matrix, (vocab_size, n_embd) = (49152, 576) float32 NumPy,
    read from the GGUF file's `token_embd.weight` tensor and de-quantized (Q8_0) with the `gguf`
    package, without loading the rest of the model. SmolLM2 ties its output layer to it.

    >>> smollm2_embeddings().shape
    (49152, 576)
    """
    from gguf import GGUFReader
    from gguf.quants import dequantize

    from course_utils.data import smollm2_gguf_path

    reader = GGUFReader(smollm2_gguf_path())
    (tensor,) = [t for t in reader.tensors if t.name == "token_embd.weight"]
    return dequantize(tensor.data, tensor.tensor_type)  # (V, C)


def nearest_rows(embeddings: Any, reference_ids: Sequence[int], k: int = 10
                 ) -> list[tuple[int, float]]:
    """The `k` rows of `embeddings` (V, C) closest (L2) to the mean of the `reference_ids` rows,
    as (id, distance), closest first, the reference rows left out; equal distances (to 6
    decimals) rank by id.

    >>> import numpy as np
    >>> nearest_rows(np.array([[0.0, 0.0], [0.0, 0.2], [5.0, 5.0], [0.1, 0.0]]), [0, 1], 2)
    [(3, 0.141421), (2, 7.000714)]
    """
    import numpy as np

    rows = _rows(embeddings)  # (V, C)
    if isinstance(reference_ids, (str, bytes)) or not isinstance(reference_ids, Iterable):
        raise TypeError("reference_ids must be ids, e.g. [5, 6, 7], got "
                        f"{short_repr(reference_ids)}")
    reference = sorted({check_int("reference id", i, minimum=0, maximum=len(rows) - 1)
                        for i in reference_ids})
    if not reference:
        raise ValueError("reference_ids must name at least one row, e.g. [5, 6, 7]")
    # Rounded, so that rows at the same point rank by id on any machine (last-bit differences).
    distance = np.round(np.linalg.norm(rows - rows[reference].mean(axis=0), axis=1), 6)  # (V,)
    distance[reference] = np.inf
    order = np.argsort(distance, kind="stable")[:check_int("k", k, minimum=0)]
    return [(int(i), float(distance[i])) for i in order]


def lowest_norms(embeddings: Any, k: int = 10, *, ids: Iterable[int] | None = None
                 ) -> list[tuple[int, float]]:
    """The `k` rows of `embeddings` (V, C) with the smallest L2 norm, as (id, norm), smallest
    first; only among `ids` when given.

    >>> import numpy as np
    >>> lowest_norms(np.array([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0]]), 2)
    [(1, 1.0), (0, 5.0)]
    """
    import numpy as np

    norms = np.linalg.norm(_rows(embeddings), axis=1)  # (V,)
    candidates = list(range(len(norms))) if ids is None else [
        check_int("ids[...]", i, minimum=0, maximum=len(norms) - 1) for i in ids]
    best = sorted(candidates, key=lambda i: (norms[i], i))[:check_int("k", k, minimum=0)]
    return [(i, float(norms[i])) for i in best]
