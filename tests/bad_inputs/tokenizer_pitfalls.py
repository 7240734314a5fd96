"""Bad inputs for the pitfalls lab's measurements (tokenizer_pitfalls, undertrained_tokens)."""

from __future__ import annotations

import numpy as np

from bad_inputs import bad

from course_utils import tokenizer_pitfalls as tp
from course_utils import undertrained_tokens as ut
from course_utils.tokenization import BPETokenizer

BYTES = BPETokenizer({i: bytes([i]) for i in range(256)}, [])
ROWS = np.eye(4)

CASES = [
    bad("token_pieces(tok=None)", lambda: tp.token_pieces(None, "a"), TypeError, "tok", "None"),
    bad("token_pieces(text=bytes)", lambda: tp.token_pieces(BYTES, b"a"), TypeError, "text"),
    bad("digit_tokens(tok=str)", lambda: tp.digit_tokens("gpt2"), TypeError, "tok", "'gpt2'"),
    bad("split_shapes(num_digits=0)", lambda: tp.split_shapes(BYTES, 0), ValueError,
        "num_digits", "0"),
    bad("split_shapes(samples=0)", lambda: tp.split_shapes(BYTES, 3, samples=0), ValueError,
        "samples"),
    bad("column_alignment(seed=0.5)", lambda: tp.column_alignment(BYTES, 3, seed=0.5),
        TypeError, "seed"),
    bad("column_alignment(tok=dict)", lambda: tp.column_alignment({}, 3), TypeError, "tok"),
    bad("space_before_words(text=None)", lambda: tp.space_before_words(BYTES, None), TypeError,
        "text"),
    bad("reversal_costs(empty text)", lambda: tp.reversal_costs(BYTES, ""), ValueError, "text"),
    bad("injection_outcomes(tok=None)", lambda: tp.injection_outcomes(None, "a"), TypeError,
        "tok"),
    bad("language_costs(list)", lambda: tp.language_costs([BYTES], {"a": "a"}, progress=False),
        TypeError, "tokenizers", "list"),
    bad("language_costs(a text of None)",
        lambda: tp.language_costs({"b": BYTES}, {"a": None}, progress=False), TypeError,
        "texts['a']"),
    bad("language_costs(empty text)",
        lambda: tp.language_costs({"b": BYTES}, {"a": ""}, progress=False), ValueError,
        "texts['a']"),
    bad("language_costs(a tokenizer of None)",
        lambda: tp.language_costs({"b": None}, {"a": "a"}, progress=False), TypeError,
        "tokenizers['b']"),
    bad("whole_token_chars(tok=None)", lambda: tp.whole_token_chars(None, "好"), TypeError,
        "tok"),
    bad("glued_chunks(pattern=None)", lambda: tp.glued_chunks(None, "好"), TypeError, "pattern"),
    bad("glued_tokens(tok=1)", lambda: tp.glued_tokens(1), TypeError, "tok", "1"),
    bad("nearest_rows(a vector)", lambda: ut.nearest_rows(np.ones(4), [0]), ValueError,
        "embeddings", "(vocab_size, n_embd)"),
    bad("nearest_rows(no reference)", lambda: ut.nearest_rows(ROWS, []), ValueError,
        "reference_ids"),
    bad("nearest_rows(reference_ids=5)", lambda: ut.nearest_rows(ROWS, 5), TypeError,
        "reference_ids", "5"),
    bad("nearest_rows(reference id out of range)", lambda: ut.nearest_rows(ROWS, [9]),
        ValueError, "reference id", "9"),
    bad("nearest_rows(k=-1)", lambda: ut.nearest_rows(ROWS, [0], -1), ValueError, "k"),
    bad("lowest_norms(text)", lambda: ut.lowest_norms("rows"), ValueError, "embeddings"),
    bad("lowest_norms(ids out of range)", lambda: ut.lowest_norms(ROWS, ids=[7]), ValueError,
        "ids"),
]
