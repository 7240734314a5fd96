"""The English sentences of the exercise checks, keyed by result code (see `messages`).

The first group serves every check; the others follow the notebooks' exercises in order.
"""

from __future__ import annotations

ENGLISH: dict[str, str] = {
    # ---------------------------------------------------------------- every check
    "not_attempted": "not attempted yet: replace the None above with your answer",
    "one_answer": "{name} takes one answer: {name}(your_answer)",
    "check_failed": "this check could not judge the answer: {error}",
    "hidden_output": "(your code printed {lines} line(s), hidden here)",
    "not_a_number": "give a number, got {type}",
    "not_finite": "give a finite number, got {value}",
    "too_large": "{value} is too large to be the answer",
    "not_a_function": "expected a function, got {type}",
    "raised": "{name}({args}) raised {error}",
    "answer_raised": "your answer raised {error} while it was checked",
    "returned": "{name}({args}) returned {got}, expected {expected}",
    "all_cases_pass": "correct: {name} passes all {count} cases",
    # ---------------------------------------------------------------- notebook 01
    "utf8_bytes.correct": "correct: 6 ASCII characters × 1 + ï 2 + 好 3 + 😀 4 = 15 bytes",
    "utf8_bytes.characters": "that is the number of characters (code points), not bytes",
    "utf8_bytes.utf16": "that is UTF-16 (2 bytes per character, 4 for the emoji), not UTF-8",
    "utf8_bytes.emoji": "one byte short: did a space go uncounted, or 😀 get 3 bytes? It is past "
                       "U+FFFF, so UTF-8 needs 4 bytes for it",
    "utf8_bytes.accent": "close: ï is U+00EF, below U+0800, so UTF-8 needs 2 bytes for it, not 3",
    "utf8_bytes.all_three": "not every character takes 3 bytes: ASCII takes 1, ï 2, 好 3, 😀 4",
    "utf8_bytes.not_quite": "not quite: look at len(text.encode('utf-8')) for one character first",
    "pretokenize.correct": "correct: {count} chunks, each word keeps the space before it",
    "pretokenize.not_a_list": "give a list of str (the chunks), got {type}",
    "pretokenize.not_a_str": "every chunk must be a str, got {chunk}",
    "pretokenize.join_back": "your chunks must join back to the original text exactly",
    "pretokenize.space_at_end": "spaces attach to the start of the next chunk, not the end",
    "pretokenize.first_difference": "first difference: you have {got}, the pattern gives {want}",
    "pretokenize.count": "the pattern gives {expected} chunks, you have {count}",
    "bpe_separator.correct": "correct: your {count} merges equal BPETokenizer.train's on both "
                             "texts; none crosses the separator",
    "bpe_separator.not_merges": "return a list of merges, each a pair of bytes such as "
                                "(b'\\xe3', b'\\x80'), got {got}",
    "bpe_separator.ids": "return each merge as its two tokens' bytes, as BPETokenizer.merges "
                         "does, not as two ids: look the ids up in a vocab",
    "bpe_separator.count": "{num_merges} merges were asked for, you returned {count}; "
                           "a vocab_size counts the 256 bytes, the merges and the separator",
    "bpe_separator.crosses": "merge {index} makes {token}, which holds bytes of the separator "
                             "{separator}: cut the text at the separator before counting pairs",
    "bpe_separator.pretokenize": "merge {index} makes {token}, which spans two chunks of "
                                 "GPT2_SPLIT_PATTERN: cut each piece into chunks with it",
    "bpe_separator.unweighted": "merge {index} differs: count each distinct chunk's pairs as "
                                "many times as the chunk occurs",
    "bpe_separator.tie_break": "merge {index}: {got} and {want} occur equally often; ties go "
                               "to the pair with the smaller ids",
    "bpe_separator.first_difference": "merge {index}: you have {got}, BPETokenizer.train "
                                      "learns {want}",
    "digit_pattern.correct": "correct: 2026 is now 4 chunks, ' 2', '0', '2', '6'; the rest is "
                             "cut as GPT-2 cuts it",
    "digit_pattern.not_a_str": "give the pattern as a str (a regular expression), got {type}",
    "digit_pattern.invalid": "that is not a valid regular expression: {error}",
    "digit_pattern.join_back": "your chunks of {text} join back to {joined}: every character "
                               "must fall in some chunk",
    "digit_pattern.unicode": "your chunks lose {lost}: Unicode counts them as numbers (\\p{{N}}), "
                             "but \\d and [0-9] match decimal digits only",
    "digit_pattern.unmatched": "your chunks lose {lost}: no alternative of your pattern matches "
                               "these numbers, so they fall out of every chunk",
    "digit_pattern.groups": "the course's tokenizer refuses capturing groups (findall returns "
                            "them, not the chunks): write (?:...) instead of (...)",
    "digit_pattern.grouped": "the chunk {chunk} still holds several digits: one digit per chunk",
    "digit_pattern.gpt4": "the chunk {chunk} groups up to three digits, GPT-4's rule: here "
                          "each digit is a chunk of its own",
    "digit_pattern.space": "the space before a number became a chunk of its own: keep it on "
                           "the first digit (' ?'), as GPT-2 does",
    "digit_pattern.first_difference": "in {text} you have the chunk {got} where GPT-2's "
                                      "pattern, one digit a chunk, has {want}",
    "chat_ids.correct": "correct: the template's 3 markers are special ids; the user's text, "
                        "even '<|im_end|>', stays plain text",
    "chat_ids.not_ids": "return a list of int ids, got {got}",
    "chat_ids.refused": "encode refused special-token text while building the prompt for "
                        "{text}: allow the template's markers (allowed_special='all') and "
                        "encode the user's text as plain text (disallowed_special=())",
    "chat_ids.markers_as_text": "only {count} of the template's 3 markers became special ids: "
                                "encode the template with allowed_special='all'",
    "chat_ids.system_turn": "your ids start with the default system turn of SmolLM2's own "
                            "template: this exercise asks for the minimal prompt, without it",
    "chat_ids.ends_early": "for {text} your prompt ends after {last}; next comes {want}",
    "chat_ids.first_difference": "for {text}, after {last} your ids have {got} where the "
                                 "prompt has {want}",
    "chat_ids.injected": "injection: for {text} the user's part of your ids holds {count} "
                         "special token(s), the first {first}; encode it as plain text",
    # ---------------------------------------------------------------- notebook 02
    "bigram_mle.correct":
        "correct: c(. the) / c(. ·) = 2 / 2 = 1: the last '.' ends the corpus, followed by "
        "nothing",
    "bigram_mle.context_occurrences":
        "'.' occurs 3 times, but the last one ends the corpus: divide by the bigrams that start "
        "with '.', c(. ·) = 2",
    "bigram_mle.all_tokens":
        "you divided by all 20 tokens: condition on the context, divide by c(. ·)",
    "bigram_mle.uniform": "that is 1/|V|, a uniform guess: count how often 'the' follows '.'",
    "bigram_mle.word_count":
        "you divided by the count of 'the'; the context is '.': divide by c(. ·)",
    "bigram_mle.not_quite":
        "count the bigrams that start with '.' and those that are exactly '. the'",
    "add_one.correct": "correct: (c(dog cat) + 1) / (c(dog ·) + |V|) = (0 + 1) / (2 + 9) = 1/11",
    "add_one.mle": "that is the MLE estimate: add one to every count first",
    "add_one.keep_observed":
        "add |V| = 9 to the denominator *and* keep the 2 observed bigrams 'dog ·'",
    "add_one.add_vocabulary":
        "add one to the count, but add |V| (one per possible next word) below",
    "add_one.corpus_size": "the context count is c(dog ·) = 2, not the corpus size",
    "add_one.unknown": "|V| here is the 9 distinct words of the tiny corpus: no <unk> was added "
                       "to it",
    "add_one.not_quite": "add-one: (count + 1) / (context count + vocabulary size)",
    "perplexity.correct": "correct: the mean of −ln p is 1.75 ln 2 nats, so the perplexity is "
                          "e^(1.75 ln 2) = 2^1.75 ≈ {expected:.3f}",
    "perplexity.nats": "that is the cross-entropy in nats: the perplexity is e to it",
    "perplexity.bits": "that is the cross-entropy in bits: the perplexity is 2 to it",
    "perplexity.mean_inverse":
        "that is the mean of 1/p: perplexity is a geometric mean, exp(mean(−ln p))",
    "perplexity.inverse_probability": "that is 1/P(text): take the 4th root (one per token)",
    "perplexity.not_quite": "perplexity = exp(mean over tokens of −ln p)",
    "distinct_trigrams.correct": "correct: 9 trigrams, but 'abr' and 'bra' occur twice: 7 entries",
    "distinct_trigrams.every_position":
        "that counts every position; a table stores each distinct trigram once",
    "distinct_trigrams.characters": "that is the number of characters: a trigram spans 3 of them",
    "distinct_trigrams.distinct_characters":
        "that is the number of distinct characters, not trigrams",
    "distinct_trigrams.all_orders":
        "that is 5 + 7 + 7, the unigrams and bigrams as well: count only the trigrams",
    "distinct_trigrams.not_quite":
        "list the trigrams at positions 0…8 (abr, bra, rac, …) and drop repeats",
    "kneser_ney.correct": "correct: {name} equals NGramLM(order=3, smoothing='kneser_ney') on "
                          "all {count} cases",
    "kneser_ney.raw_counts": "{name}({args}) returned {got}, the value with raw counts at every "
                             "level: below the highest order use continuation counts N1+(• v w), "
                             "and estimate each level's D from them",
    "kneser_ney.not_a_number": "{name}({args}) returned {got}: return P(word | context), a number",
    # ---------------------------------------------------------------- notebook 03
    "attention_weights.correct": "correct: softmax([0.5, 0.5, 1.0]) = [{weights}]",
    "attention_weights.not_numbers": "give three numbers, one weight per token",
    "attention_weights.count": "give three weights (one per token), got {count}",
    "attention_weights.unscaled":
        "you used the unscaled scores q·k: divide them by sqrt(d_k) = 2 first",
    "attention_weights.sum": "attention weights sum to 1; yours sum to {total:.3f}",
    "attention_weights.not_quite":
        "not quite: scale the scores [1, 1, 2] by 1/sqrt(4), then apply softmax",
    "causal_mask.correct": "correct: causal_mask passes all {count} sizes",
    "causal_mask.not_a_tensor": "return a torch tensor, got {type}",
    "causal_mask.not_bool": "return a boolean tensor (True = may attend), got {dtype}",
    "causal_mask.shape": "causal_mask({size}) has shape {shape}, expected ({size}, {size})",
    "causal_mask.transposed": "transposed: row i is the query; it may attend to columns j <= i",
    "causal_mask.inverted": "inverted: True must mean 'may attend' (the diagonal and below)",
    "causal_mask.wrong": "causal_mask({size}) is wrong: row i must be True in columns 0..i",
    "split_heads.correct":
        "correct: split_heads gives (B, n_head, T, head_size) with each head's channels in place",
    "split_heads.raised": "split_heads raised {error}",
    "split_heads.shape": "expected shape (B, n_head, T, head_size) = (2, 4, 3, 2), got {shape}",
    "split_heads.mixes_tokens": "right shape, wrong values: view as (B, T, n_head, head_size) "
                                "first, then swap T and n_head; viewing straight to "
                                "(B, n_head, T, hs) mixes tokens",
    "split_heads.wrong_values": "right shape, wrong values: head h must hold channels h*hs .. "
                                "(h+1)*hs - 1 of every token",
    "gpt2_parameters.correct":
        "correct: {expected:,} parameters (the LM head shares the token embedding)",
    "gpt2_parameters.lm_head":
        "the LM head is tied to the token embedding wte: count that matrix once",
    "gpt2_parameters.wpe": "don't forget the position embedding wpe (block_size × n_embd)",
    "gpt2_parameters.layernorms": "don't forget the LayerNorms: a weight and a bias of n_embd "
                                  "each, 2 per block + ln_f",
    "gpt2_parameters.not_quite": "not quite ({answer:,}): count wte, wpe, 12 blocks (2 "
                                 "LayerNorms, c_attn, c_proj, c_fc, mlp c_proj, with biases) "
                                 "and ln_f",
    "query_weights.correct": "correct: softmax([1.0, 0.5, 1.5]) = [{weights}]",
    "query_weights.unscaled":
        "you used the unscaled scores q·k = [2, 1, 3]: divide them by sqrt(d_k) = 2 first",
    "query_weights.not_quite":
        "not quite: dot q = [0, 0, 2, 1] with each key, divide by sqrt(4), then softmax",
    "window_mask.correct": "correct: sliding_window_mask passes all {count} cases",
    "window_mask.not_a_tensor": "return a torch tensor, got {type}",
    "window_mask.not_bool": "return a boolean tensor (True = may attend), got {dtype}",
    "window_mask.shape":
        "sliding_window_mask({T}, {window}) has shape {shape}, expected ({T}, {T})",
    "window_mask.transposed": "transposed: row i is the query; it may attend to columns j <= i",
    "window_mask.inverted": "inverted: True must mean 'may attend'",
    "window_mask.one_too_many": "one key too many: a window of {window} is the query itself and "
                                "the {previous} before it (i - j < window)",
    "window_mask.not_causal": "keys after the query must stay hidden: also require j <= i",
    "window_mask.wrong": "sliding_window_mask({T}, {window}) is wrong: row i must be True "
                         "exactly in columns i - window + 1 .. i (and >= 0)",
    "medium_parameters.correct":
        "correct: {expected:,} parameters (the LM head shares the token embedding)",
    "medium_parameters.small": "that is GPT-2 small: use 24 layers and n_embd = 1024",
    "medium_parameters.not_quite": "not quite ({answer:,}): count wte, wpe, 24 blocks (2 "
                                   "LayerNorms, c_attn, c_proj, c_fc, mlp c_proj, with biases) "
                                   "and ln_f",
    "chunked.correct": "correct: attention_in_chunks equals F.scaled_dot_product_attention "
                       "in all {count} cases",
    "chunked.shape": "attention_in_chunks(q, k, v, {chunk_size}) should return a tensor of "
                     "shape {expected}, got {shape}",
    "chunked.not_finite": "your result has inf or NaN with large scores: subtract the running "
                          "maximum before exp",
    "chunked.rescale": "right with one chunk, wrong with several: when a chunk raises the "
                       "running maximum from m to m', multiply the running sum and output by "
                       "exp(m - m')",
    "chunked.unscaled": "you forgot the scale: multiply the scores q kᵀ by 1/sqrt(d)",
    "chunked.wrong": "attention_in_chunks(q, k, v, {chunk_size}) differs from "
                     "F.scaled_dot_product_attention by up to {error:.3g}",
    "mha.correct": "correct: your multi-head attention equals torch.nn.MultiheadAttention "
                   "in all {count} cases",
    "mha.shape": "expected an output of shape {expected} (B, T, C), got {shape}",
    "mha.not_finite": "your output has NaN: a query whose keys are all blocked. "
                      "key_padding_mask is True at padding, the keys to block",
    "mha.no_causal": "a query sees later tokens: add the causal mask",
    "mha.no_padding": "padding keys get weight: block the keys where key_padding_mask is True",
    "mha.scale": "scale each head's scores by 1/sqrt(head_size), not 1/sqrt(C)",
    "mha.out_proj": "the heads' merged output still goes through out_proj (weight and bias)",
    "mha.wrong": "your output differs from torch.nn.MultiheadAttention's by up to {error:.3g} "
                 "(n_head = {n_head})",
    # ---------------------------------------------------------------- notebook 04
    "gd_step.correct": "correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4",
    "gd_step.along_gradient":
        "you stepped along the gradient: the update subtracts lr·∇L, moving downhill",
    "gd_step.factor_two": "the derivative of (θ − 3)² is 2(θ − 3): don't drop the factor 2",
    "gd_step.not_quite": "compute ∇L(1) = 2(1 − 3) first, then θ − lr·∇L",
    "max_stable_lr.correct":
        "correct: θ ← (1 − 10·lr)θ shrinks only while |1 − 10·lr| < 1, i.e. lr < 2/10 = 0.2",
    "max_stable_lr.one_step": "lr = 0.1 lands on the minimum in one step (1 − 10·lr = 0); a "
                              "larger lr still converges, oscillating, until |1 − 10·lr| reaches 1",
    "max_stable_lr.curvature": "the curvature is L'' = 10, not 5: the limit is 2 / L''",
    "max_stable_lr.not_quite":
        "write one step as θ ← (1 − lr·L'')θ with L'' = 10, and ask when |1 − lr·L''| < 1",
    "bowl_lr.correct": "correct: θ₂ ← (1 − 25·lr)θ₂ shrinks only while lr < 2/25 = 0.08; "
                       "θ₁ would allow 2/4",
    "bowl_lr.shallow": "2/4 suits θ₁ only: at that lr, θ₂ is multiplied by 1 − 25·0.5 = −11.5 "
                       "each step. The steepest direction sets the limit",
    "bowl_lr.one_step": "1/25 puts θ₂ on its minimum in one step; a larger lr still converges, "
                        "oscillating, until |1 − 25·lr| reaches 1",
    "bowl_lr.best_single": "2/(4 + 25) is the best single lr, the fastest; the question asks "
                           "for the largest that still converges",
    "bowl_lr.half": "the curvature of ½·25θ₂² is 25, not 12.5: the limit is 2 / 25",
    "bowl_lr.not_quite": "write one step per direction, θᵢ ← (1 − lr·cᵢ)θᵢ with c = 4 and 25, "
                         "and ask when both |1 − lr·cᵢ| < 1",
    "bits_per_byte.correct": "correct: 3.0 / (2.5 · ln 2) ≈ {expected:.3f} bits per byte",
    "bits_per_byte.nats": "that is nats per byte: divide by ln 2 to get bits",
    "bits_per_byte.per_token": "that is bits per token: divide by the bytes per token too",
    "bits_per_byte.multiplied": "divide by the bytes per token, don't multiply",
    "bits_per_byte.not_quite": "bits per byte = loss per token / bytes per token / ln 2",
    "initial_loss.correct": "correct: a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats",
    "initial_loss.bits":
        "that is log₂ 1024 (bits); PyTorch's cross-entropy uses the natural log",
    "initial_loss.probability": "that is the probability of each token; the loss is −ln of it",
    "initial_loss.not_quite":
        "an untrained model spreads probability evenly: loss = −ln(1 / vocab_size)",
    "clip_grad_norm.per_tensor": "you clipped each tensor by its own norm: clip_grad_norm_ "
                                 "takes one norm over all the gradients together",
    "clip_grad_norm.always_scaled": "below max_norm the gradients stay as they are: scale by "
                                    "min(1, max_norm / total_norm)",
    "clip_grad_norm.not_in_place": "the gradients did not change: scale each p.grad in place "
                                   "(p.grad.mul_(…)), the optimizer reads p.grad",
    "clip_grad_norm.norm": "return the total norm before clipping, as torch does: got {got}, "
                           "expected {expected}",
    "clip_grad_norm.not_quite": "case {case}: the gradients differ from torch's; when the total "
                                "norm N > max_norm, each is multiplied by max_norm / N",
    "adam_l2.decoupled": "that is AdamW's decoupled decay; Adam's weight_decay adds "
                         "weight_decay·param to the gradient, before the moments",
    "adam_l2.no_weight_decay": "weight_decay is missing: add weight_decay·param to the gradient",
    "adam_l2.no_bias_correction": "divide m by 1 − β1^step and v by 1 − β2^step (bias "
                                  "correction) before the update",
    "adam_l2.not_quite": "step {step}: {name} differs from torch.optim.Adam's (got {got}, "
                         "expected {expected})",
    "adam_l2.not_a_triple": "return (param, m, v), three tensors; got {got}",
    "heavy_ball.correct": "correct: {count} steps of heavy_ball_step follow torch.optim.SGD's "
                          "trajectory",
    "heavy_ball.no_momentum": "that is plain gradient descent: add momentum·(theta − theta_prev)",
    "heavy_ball.sign": "the momentum term keeps moving the way the last step went: "
                       "+ momentum·(theta − theta_prev)",
    "heavy_ball.lr_on_momentum": "the momentum term is not multiplied by lr: "
                                 "theta − lr·grad + momentum·(theta − theta_prev)",
    "heavy_ball.not_quite": "step {step}: got {got}, torch.optim.SGD reached {expected}; the step "
                            "is theta − lr·grad + momentum·(theta − theta_prev)",
    # ---------------------------------------------------------------- notebook 05
    "temperature.correct":
        "correct: softmax([2, 1, 0] / 0.5) = softmax([4, 2, 0]); e⁴ / (e⁴ + e² + 1) ≈ 0.8668",
    "temperature.temperature_one": "that is temperature 1: divide the logits by 0.5 first",
    "temperature.multiplied": "you multiplied by the temperature: divide the logits by it",
    "temperature.no_exp": "softmax exponentiates: e⁴ / (e⁴ + e² + e⁰), not 4 / (4 + 2 + 0)",
    "temperature.not_quite": "divide the logits by the temperature, then take the softmax",
    "nucleus_size.correct":
        "correct: 0.5 + 0.3 = 0.8 < 0.9, and adding 0.15 reaches 0.95 ≥ 0.9: three tokens",
    "nucleus_size.two": "0.5 + 0.3 = 0.8 is still below 0.9: the nucleus must reach p, so one more",
    "nucleus_size.four": "the last token is not needed: the first three already sum to 0.95 ≥ 0.9",
    "nucleus_size.one": "top-p keeps tokens until their probabilities sum to at least p",
    "nucleus_size.not_quite": "sort from most likely, add probabilities until the sum reaches 0.9",
    "repetition_penalty.correct":
        "correct: 2.0 / 1.25 = 1.6 and −1.0 × 1.25 = −1.25: both tokens become less likely",
    "repetition_penalty.not_numbers": "give the two new logits as a list, e.g. [1.0, -1.0]",
    "repetition_penalty.count": "give two logits, got {count}",
    "repetition_penalty.negative_divided": "dividing −1.0 by 1.25 gives −0.8, which makes that "
                                           "token *more* likely: negative logits are multiplied "
                                           "instead",
    "repetition_penalty.positive_multiplied":
        "multiplying 2.0 makes it more likely: positive logits are divided",
    "repetition_penalty.not_quite":
        "positive logits are divided by the penalty, negative ones multiplied",
    "kv_cache_floats.correct": "correct: keys and values (2) × 16 layers × 8 key/value heads × 64 "
                               "× 4,096 tokens = 67,108,864 (128 MiB in bf16)",
    "kv_cache_floats.one_of_two": "that counts keys or values, not both",
    "kv_cache_floats.one_layer": "every layer has its own keys and values: multiply by 16 layers",
    "kv_cache_floats.query_heads": "3× too many: only the 8 key/value heads are cached, not the 24 "
                                   "query heads (24 × 64 = 1,536 dimensions)",
    "kv_cache_floats.bytes": "that looks like bytes: the question asks for numbers, not bytes",
    "kv_cache_floats.not_quite":
        "each layer keeps a key and a value vector per key/value head and token",
    "min_p_filter.correct": "correct: {name} equals transformers' MinPLogitsWarper on all "
                            "{count} cases",
    "min_p_filter.shape": "{name} must return scores of the same shape (B, V), got {got}",
    "min_p_filter.logits": "you compared the scores themselves: compare probabilities, "
                           "softmax(scores), with min_p × the row's largest probability",
    "min_p_filter.unscaled": "the threshold is min_p × the row's top probability, not min_p "
                             "alone: a flat row would lose every token",
    "min_p_filter.probabilities": "return the scores with -inf for the removed tokens, not "
                                  "probabilities",
    "min_p_filter.zero": "a removed token's score must be -inf (probability 0), not 0",
    "min_p_filter.kept_wrong": "{name}({args}) keeps {got}, transformers keeps {expected}",
    "beam_step.correct": "correct: {name} picks the same beams as course_utils' beam_search in "
                         "all {count} cases",
    "beam_step.not_three": "return three tensors: (new scores, beam indices, token ids), got "
                           "{got}",
    "beam_step.shape": "each of the three must hold num_beams = {count} numbers, got shapes "
                       "{got}",
    "beam_step.no_sum": "add each beam's score to its tokens' log-probabilities before you "
                        "compare candidates",
    "beam_step.per_beam": "you kept the best token of each beam: compare all beams × tokens "
                          "candidates together (flatten them, then topk)",
    "beam_step.swapped": "beam and token are swapped: in the flattened (num_beams · V) scores, "
                         "beam = index // V and token = index % V",
    "beam_step.order": "the right candidates in the wrong order: return them best first "
                       "(topk sorts them so)",
    "beam_step.not_quite": "{name}({args}) returned scores {got}, expected {expected}",
    "beam_step.search_differs": "one step is right, but a search built on it writes {got} where "
                                "beam_search writes {expected}: return the candidates best first",
}
