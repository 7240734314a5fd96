"""GPT-2's tokenizer, from OpenAI's files, on top of the course's BPE; and the Hugging Face export.

The course builds byte-level BPE in layers, each module adding one idea to the one before:

- `course_utils.bpe`: the algorithm on lists of ids (`merge`, the naive and the fast trainer);
- `course_utils.tokenizer_file`: the tokenizer's file (one JSON file with a checksum, replaced
  in one step) and the types of the four parts it holds;
- `course_utils.regex_tokenizer`: a tokenizer of text (`RegexTokenizer`: split pattern,
  special tokens, train, encode/decode, truncated, save/load);
- this module: `BPETokenizer`, the course's tokenizer, which adds GPT-2's released vocabulary
  (`from_gpt2`, read offline) and the export to a Hugging Face tokenizer (`to_hf`).

Both additions rest on one table, `bytes_to_unicode`: GPT-2's files (and Hugging Face's) write
each token, which is bytes, as printable text. With it, GPT-2's 50,000 merges run through the
same `encode` as any tokenizer trained here, and give exactly GPT-2's ids.

Left out: other released vocabularies (GPT-4's cl100k_base would need its own byte shuffle and
split pattern), and downloads: the GPT-2 files come from an installed package.

For the learner, everything is importable from here: `BPETokenizer`, `GPT2_SPLIT_PATTERN`,
`ENDOFTEXT`, `FILE_NAME`, `bytes_to_unicode` and `merge`.

>>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=(), progress=False)
>>> tok.merges
[(b'a', b'a'), (b'a', b'b'), (b'aa', b'ab')]
>>> tok.encode("aaabdaaabac")
[258, 100, 258, 97, 99]
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from course_utils.bpe import merge
from course_utils.regex_tokenizer import ENDOFTEXT, GPT2_SPLIT_PATTERN, RegexTokenizer
from course_utils.tokenizer_file import FILE_NAME

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

__all__ = ["BPETokenizer", "GPT2_SPLIT_PATTERN", "ENDOFTEXT", "FILE_NAME", "bytes_to_unicode",
           "merge"]


def bytes_to_unicode() -> dict[int, str]:
    """Return GPT-2's map from each byte value to a printable character that stands for it.

    GPT-2's files store tokens as text, but a token is bytes, and many bytes are invisible
    (control bytes, space) or not valid UTF-8 on their own. So each printable, non-space byte
    (`!`..`~`, `¡`..`¬`, `®`..`ÿ`: 188 of them) stands for itself as a Latin-1 character, and
    the other 68 are given the characters 256, 257, ... in byte order. Space (byte 32) becomes
    "Ġ" and newline "Ċ": that is why GPT-2's vocabulary is full of tokens like "Ġthe".

    >>> b2u = bytes_to_unicode()
    >>> b2u[ord("a")], b2u[ord(" ")], b2u[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    >>> len(set(b2u.values()))
    256
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return dict(sorted(mapping.items()))


class BPETokenizer(RegexTokenizer):
    """The course's byte-level BPE tokenizer: a `RegexTokenizer` that can also be GPT-2's.

    Build one with `train`, `from_gpt2` or `load`, and hand it to Hugging Face with `to_hf`.
    Everything else (`encode`, `decode`, `truncated`, `save`, ...) is `RegexTokenizer`'s.

    >>> tok = BPETokenizer.train("hello hello world", vocab_size=260, progress=False)
    >>> tok.token_strings(tok.encode("hello<|endoftext|>", allowed_special="all"))
    ['hel', 'lo', '<|endoftext|>']
    >>> gpt2 = BPETokenizer.from_gpt2()
    >>> gpt2.encode("Hello world<|endoftext|>", allowed_special="all"), gpt2.token_strings([20015])
    ([15496, 995, 50256], ['\\\\xe4\\\\xbb'])
    """

    @classmethod
    def from_gpt2(cls) -> BPETokenizer:
        """Return GPT-2's tokenizer (50,257 ids), read from OpenAI's released files, offline.

        encoder.json maps each token, written with `bytes_to_unicode`, to its id; vocab.bpe lists
        the 50,000 merges in order, one "Ġ t" pair per line after a "#version" line.

        >>> BPETokenizer.from_gpt2().vocab_size
        50257
        """
        from course_utils.data import gpt2_vocab_files

        encoder_path, merges_path = gpt2_vocab_files()
        byte_of = {char: b for b, char in bytes_to_unicode().items()}

        def to_bytes(token: str) -> bytes:
            return bytes(byte_of[char] for char in token)

        encoder: dict[str, int] = json.loads(encoder_path.read_text(encoding="utf-8"))
        specials = {ENDOFTEXT: encoder.pop(ENDOFTEXT)}
        vocab = {i: to_bytes(token) for token, i in encoder.items()}
        vocab[specials[ENDOFTEXT]] = ENDOFTEXT.encode("utf-8")
        lines = merges_path.read_text(encoding="utf-8").splitlines()
        merges = [(to_bytes(a), to_bytes(b)) for a, b in (line.split() for line in lines[1:])]
        return cls(vocab, merges, specials, GPT2_SPLIT_PATTERN)

    def to_hf(self) -> PreTrainedTokenizerFast:
        """Return a `transformers` tokenizer that gives the same ids as `encode`.

        Vocab and merges are written in GPT-2's `bytes_to_unicode` alphabet for a `tokenizers`
        BPE model; the pre-tokenizer applies `pattern`. Ids match for all text except code points
        first assigned in Unicode 17, which `regex` knows as letters and `tokenizers` does not.

        >>> BPETokenizer.from_gpt2().to_hf()("Hello world")["input_ids"]
        [15496, 995]
        """
        from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        b2u = bytes_to_unicode()

        def as_text(token: bytes) -> str:
            return "".join(b2u[b] for b in token)

        special_ids = set(self.special_tokens.values())
        vocab = {as_text(t): i for i, t in self.vocab.items() if i not in special_ids}
        # Special tokens sit in the model's vocab too, so that they keep their ids.
        vocab.update(self.special_tokens)
        merges = [(as_text(a), as_text(b)) for a, b in self.merges]
        tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
        if self.pattern == GPT2_SPLIT_PATTERN:  # ByteLevel's built-in regex is GPT-2's
            tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                               use_regex=True)
        else:
            tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(self.pattern), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.add_special_tokens([AddedToken(name, special=True, normalized=False)
                                      for name in self.special_tokens])
        # GPT-2 uses <|endoftext|> as beginning, end and unknown token alike; none is added
        # to encoded text, since the tokenizer has no post-processor.
        roles = ({"bos_token": ENDOFTEXT, "eos_token": ENDOFTEXT, "unk_token": ENDOFTEXT}
                 if ENDOFTEXT in self.special_tokens else {})
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer,
                                       clean_up_tokenization_spaces=False, **roles)
