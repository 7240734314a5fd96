"""Feedback for the notebooks' exercises.

Each `check_*` function takes the learner's answer (a value or a function), prints one line of
feedback — "not attempted yet", a hint saying what is off, or "correct" — and returns None, so
a notebook shows only the feedback. (Strict nbval compares that line, so a solutions notebook
whose answer stops being correct fails the tests.) Expected values are worked out by hand in
the comments, or computed with the course's tested implementation.

Whatever the answer — a wrong type, 10**400, NaN, a function that raises or prints — a check
prints exactly one line of at most 300 characters and never raises, bar the stop button's
KeyboardInterrupt (`feedback` explains how).
Each outcome is a result code; its sentence comes from a table per language (`messages`), and
`recording()` collects the results for tests and graders:

>>> with recording() as results:
...     check_gd_step("1.4")
✗ give a number, got str
>>> results[0].code
'not_a_number'

One module per notebook; every check is importable from here:
`from course_utils.exercises import check_utf8_bytes`.
"""

from course_utils.exercises.attention import (check_attention_weights, check_causal_mask,
                                              check_gpt2_medium_parameters,
                                              check_gpt2_parameters, check_query_weights,
                                              check_sliding_window_mask, check_split_heads,
                                              check_stable_softmax)
from course_utils.exercises.attention_build import (check_chunked_attention,
                                                    check_multihead_attention)
from course_utils.exercises.feedback import Result, recording, set_language
from course_utils.exercises.generation import (check_beam_step, check_find_draft,
                                               check_kv_cache_floats,
                                               check_min_p_filter, check_nucleus_size,
                                               check_repetition_penalty, check_temperature,
                                               check_top_k_filter)
from course_utils.exercises.messages import MESSAGES
from course_utils.exercises.ngrams import (check_add_one, check_bigram_mle,
                                           check_continuation_counts, check_distinct_trigrams,
                                           check_kneser_ney_trigram, check_perplexity)
from course_utils.exercises.tokenization import (check_bpe_encode, check_bpe_separator,
                                                 check_count_pairs, check_decode,
                                                 check_pretokenize, check_utf8_bytes)
from course_utils.exercises.tokenizer_pitfalls import check_chat_ids, check_digit_pattern
from course_utils.exercises.training import (check_adam_l2_step, check_bits_per_byte,
                                             check_bowl_lr, check_clip_grad_norm, check_gd_step,
                                             check_heavy_ball, check_initial_loss,
                                             check_max_stable_lr, check_momentum_step)

NOT_ATTEMPTED = MESSAGES["en"]["not_attempted"]

__all__ = [
    "NOT_ATTEMPTED", "Result", "recording", "set_language",
    # notebook 01
    "check_utf8_bytes", "check_pretokenize", "check_count_pairs", "check_bpe_encode",
    "check_decode", "check_bpe_separator", "check_digit_pattern", "check_chat_ids",
    # notebook 02
    "check_bigram_mle", "check_add_one", "check_perplexity", "check_continuation_counts",
    "check_distinct_trigrams", "check_kneser_ney_trigram",
    # notebook 03
    "check_attention_weights", "check_stable_softmax", "check_causal_mask", "check_split_heads",
    "check_gpt2_parameters", "check_query_weights", "check_sliding_window_mask",
    "check_chunked_attention", "check_multihead_attention", "check_gpt2_medium_parameters",
    # notebook 04
    "check_gd_step", "check_max_stable_lr", "check_bits_per_byte", "check_initial_loss",
    "check_momentum_step", "check_clip_grad_norm", "check_adam_l2_step", "check_bowl_lr",
    "check_heavy_ball",
    # notebook 05
    "check_temperature", "check_nucleus_size", "check_repetition_penalty", "check_kv_cache_floats",
    "check_top_k_filter", "check_min_p_filter", "check_find_draft", "check_beam_step",
]
