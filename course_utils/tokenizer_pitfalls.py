"""Tokenizer pitfalls, measured: numbers, case and spaces, spelling, special-token injection,
and what Chinese costs — for any tokenizer of the course's interface.

Each function takes a tokenizer with `vocab` (id -> bytes) and `encode_ordinary(text)` (the
course's `BPETokenizer`, whatever vocabulary it holds), measures one pitfall on text, and
returns a small table (a dict or a Counter) for a notebook to print. Loops over a vocabulary or
a corpus show a progress bar (`progress=False` hides it). `MODERN_ZH` and `MODERN_EN` are a short
modern prose passage and its translation, written for this course (same licence as the course).

What it leaves out: the models' behaviour itself (no model is run here), under-trained tokens
(`course_utils.undertrained_tokens`, from an embedding matrix), and tokenizers other than
byte-level BPE.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import regex

from course_utils.progress import progress_bar
from course_utils.validation import check_int, check_str, short_repr

__all__ = ["MODERN_ZH", "MODERN_EN", "POLICIES", "pad", "token_pieces", "digit_tokens",
           "split_shapes", "column_alignment", "space_before_words", "reversal_costs",
           "injection_outcomes", "language_costs", "whole_token_chars", "glued_chunks",
           "glued_tokens"]

MODERN_ZH = (
    "去年秋天，我搬到了城市的另一头。每天早上七点半，我先骑十五分钟共享单车到地铁站，再坐六站"
    "地铁去公司。车厢里很安静，大多数人低着头看手机：有人回微信，有人刷短视频，也有人戴着耳机学"
    "英语。我通常打开一个记账App，把前一天花的钱记下来：早餐12元，午饭28元，咖啡一杯19元。"
    "这样记了三个月，我才发现自己每个月在咖啡上花了五百多元。\n"
    "周末的时候，我喜欢去家附近的图书馆。那里新添了一排书架，放的都是关于人工智能的书，从入门"
    "教材到讲ChatGPT的科普读物。前几天我借了一本，书里说，大语言模型并不直接读汉字，而是先把"
    "文字切成一个个“token”，再把它们变成数字。读到这里，我忍不住想：在它眼里，"
    "“今天天气不错”到底是几块呢？\n")
MODERN_EN = (
    "Last autumn I moved to the other side of the city. Every morning at half past seven I ride "
    "a shared bike for fifteen minutes to the subway station, then take the subway six stops to "
    "the office. The carriage is quiet; most people look down at their phones: some answer "
    "WeChat messages, some scroll through short videos, some wear earphones and study English. "
    "I usually open a budgeting App and note what I spent the day before: breakfast 12 yuan, "
    "lunch 28 yuan, a cup of coffee 19 yuan. After three months of this I found that I spend "
    "more than five hundred yuan a month on coffee.\n"
    "At weekends I like to go to the library near my home. It has a new row of shelves, all "
    "books about artificial intelligence, from textbooks for beginners to popular books about "
    "ChatGPT. A few days ago I borrowed one. It said that a large language model does not read "
    "Chinese characters directly: it first cuts the text into \u201ctokens\u201d, one by one, "
    "and then turns them into numbers. Reading that, I could not help wondering: in its eyes, "
    "how many pieces is \u201cthe weather is nice today\u201d?\n")

# The three policies of `encode(text, allowed_special=..., disallowed_special=...)`, by name.
POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    'allowed_special="all"': {"allowed_special": "all"},
    "disallowed_special=()": {"disallowed_special": ()},
}
_HAN = regex.compile(r"\p{Han}")


class Tokenizer(Protocol):
    """What the measurements use: the course's `BPETokenizer` has both."""
    vocab: Mapping[int, bytes]

    def encode_ordinary(self, text: str) -> list[int]: ...


def _check_tok(tok: Any, name: str = "tok") -> Any:
    """`tok` itself if it has a `vocab` mapping and an `encode_ordinary` method, else TypeError."""
    if not isinstance(getattr(tok, "vocab", None), Mapping) or not callable(
            getattr(tok, "encode_ordinary", None)):
        raise TypeError(f"{name} must be a tokenizer with vocab and encode_ordinary, such as "
                        f"BPETokenizer.from_gpt2(), got {short_repr(tok)}")
    return tok


def _bar(items: Sequence[Any], desc: str, progress: bool) -> Iterable[Any]:
    """Yield `items` while a progress bar counts them."""
    with progress_bar(len(items), desc, enabled=progress) as bar:
        for item in items:
            yield item
            bar.update()


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` columns of a terminal, where a wide character
    (Chinese, full-width punctuation) takes two; `right=True` aligns it to the right.

    >>> pad("草莓", 6) + "|", pad("ab", 4, right=True)
    ('草莓  |', '  ab')
    """
    import unicodedata

    columns = sum(1 + (unicodedata.east_asian_width(ch) in "WF")
                  for ch in check_str("text", text))
    fill = " " * max(check_int("width", width, minimum=0) - columns, 0)
    return fill + text if right else text + fill


def token_pieces(tok: Tokenizer, text: str) -> list[str]:
    """Each token of `text` as readable text (bytes that are not whole characters as \\x..).

    >>> from course_utils.tokenization import BPETokenizer
    >>> token_pieces(BPETokenizer.from_gpt2(), " 1234567")
    [' 123', '45', '67']
    """
    return [tok.vocab[i].decode("utf-8", errors="backslashreplace")
            for i in _check_tok(tok).encode_ordinary(check_str("text", text))]


def digit_tokens(tok: Tokenizer) -> Counter[int]:
    """How many tokens of the vocabulary are all digits (0-9, a leading space allowed), by
    number of digits: {1: 10, 2: ..., 3: ...}.

    >>> from course_utils.tokenization import BPETokenizer
    >>> sorted(digit_tokens(BPETokenizer.from_gpt2()).items())
    [(1, 20), (2, 200), (3, 1183), (4, 272), (5, 7), (6, 3), (7, 1), (8, 4), (16, 1)]
    """
    digits = regex.compile(rb" ?([0-9]+)")
    return Counter(len(m.group(1)) for t in _check_tok(tok).vocab.values()
                   if (m := digits.fullmatch(t)))


def _cuts(tok: Tokenizer, text: str) -> list[set[int]]:
    """For each run of digits in ASCII `text`, where tokens end inside it, counted in digits
    from its right end (a cut after the tens digit is 2)."""
    ends, position = set(), 0
    for i in tok.encode_ordinary(text):
        position += len(tok.vocab[i])
        ends.add(position)
    return [{m.end() - e for e in ends if m.start() < e < m.end()}
            for m in regex.finditer(r"[0-9]+", text)]


def split_shapes(tok: Tokenizer, num_digits: int, *, samples: int = 1000, seed: int = 0
                 ) -> Counter[tuple[int, ...]]:
    """How `samples` random `num_digits`-digit numbers, each after a space as in running text,
    split into tokens: a Counter of shapes, digits per token from the left ((3, 1) = "482|9").

    >>> from course_utils.tokenization import BPETokenizer
    >>> split_shapes(BPETokenizer.from_gpt2(), 4, samples=5).most_common(2)
    [((2, 2), 3), ((1, 3), 2)]
    """
    check_int("num_digits", num_digits, minimum=1, maximum=30)
    rng, tok = random.Random(check_int("seed", seed)), _check_tok(tok)
    shapes: Counter[tuple[int, ...]] = Counter()
    for _ in range(check_int("samples", samples, minimum=1)):
        number = str(rng.randrange(10 ** (num_digits - 1), 10**num_digits))
        (cuts,) = _cuts(tok, " " + number)
        edges = [0, *sorted(num_digits - c for c in cuts), num_digits]
        shapes[tuple(b - a for a, b in zip(edges, edges[1:]))] += 1
    return shapes


def column_alignment(tok: Tokenizer, num_digits: int, *, samples: int = 1000, seed: int = 0
                     ) -> float:
    """The share of `samples` random sums " a + b = c" (a, b of `num_digits` digits) whose three
    numbers are cut into tokens at the same columns (units, tens, ...), counted from the right:
    the condition for adding token by token as one adds by hand, column by column.

    >>> from course_utils.tokenization import BPETokenizer
    >>> column_alignment(BPETokenizer.from_gpt2(), 1, samples=20)
    1.0
    """
    check_int("num_digits", num_digits, minimum=1, maximum=30)
    rng, tok = random.Random(check_int("seed", seed)), _check_tok(tok)
    aligned = 0
    for _ in range(check_int("samples", samples, minimum=1)):
        a, b = (rng.randrange(10 ** (num_digits - 1), 10**num_digits) for _ in range(2))
        cut_a, cut_b, cut_c = _cuts(tok, f" {a} + {b} = {a + b}")  # each after a space
        aligned += cut_a == cut_b == {c for c in cut_c if c < num_digits}
    return aligned / samples


_SPACED, _AFTER_SPACE, _AFTER_OTHER = ("space + letter", "letter after a lone space",
                                       "letter after another token")


def space_before_words(tok: Tokenizer, text: str) -> dict[str, int]:
    """Counts of the tokens of `text` that start with a letter or with a space and a letter:
    "space + letter" (a word with its space, " word"), "letter after a lone space" (what a
    prompt ending in a space asks the model to continue) and "letter after another token"
    (second pieces of split words, words after a newline or a mark, the text's first word).

    >>> from course_utils.tokenization import BPETokenizer
    >>> space_before_words(BPETokenizer.from_gpt2(), "a cat  sat")
    {'space + letter': 2, 'letter after a lone space': 0, 'letter after another token': 1}
    """
    tokens = [tok.vocab[i] for i in _check_tok(tok).encode_ordinary(check_str("text", text))]
    counts = dict.fromkeys((_SPACED, _AFTER_SPACE, _AFTER_OTHER), 0)
    for previous, token in zip([b""] + tokens, tokens):
        if regex.match(r" \p{L}", word := token.decode("utf-8", "ignore")):
            counts[_SPACED] += 1
        elif regex.match(r"\p{L}", word):
            counts[_AFTER_SPACE if previous == b" " else _AFTER_OTHER] += 1
    return counts


def reversal_costs(tok: Tokenizer, text: str) -> tuple[float, float]:
    """Characters per token of `text`, and of `text` with every run of letters written
    backwards ("cat sat" -> "tac tas"): the same letters, in an order the vocabulary never saw.

    >>> from course_utils.tokenization import BPETokenizer
    >>> reversal_costs(BPETokenizer.from_gpt2(), "hello world")
    (5.5, 1.8333333333333333)
    """
    text, tok = check_str("text", text, nonempty=True), _check_tok(tok)
    backwards = regex.sub(r"\p{L}+", lambda m: m.group(0)[::-1], text)
    return (len(text) / len(tok.encode_ordinary(text)),
            len(text) / len(tok.encode_ordinary(backwards)))


def injection_outcomes(tok: Any, text: str) -> dict[str, list[int] | str]:
    """What `tok.encode(text, ...)` returns under each of POLICIES, plus `encode_ordinary`:
    the ids, or the error's type when it refuses the text.

    >>> from course_utils.tokenization import BPETokenizer
    >>> injection_outcomes(BPETokenizer.from_gpt2(), "a<|endoftext|>")
    {'default': 'ValueError', 'allowed_special="all"': [64, 50256], \
'disallowed_special=()': [64, 27, 91, 437, 1659, 5239, 91, 29], \
'encode_ordinary': [64, 27, 91, 437, 1659, 5239, 91, 29]}
    """
    outcomes: dict[str, list[int] | str] = {}
    text, tok = check_str("text", text), _check_tok(tok)
    for name, policy in POLICIES.items():
        try:
            outcomes[name] = tok.encode(text, **policy)
        except ValueError as error:
            outcomes[name] = type(error).__name__
    outcomes["encode_ordinary"] = tok.encode_ordinary(text)
    return outcomes


def language_costs(tokenizers: Mapping[str, Tokenizer], texts: Mapping[str, str], *,
                   progress: bool = True) -> dict[tuple[str, str], tuple[float, float]]:
    """For each (tokenizer name, text name): (tokens per character, UTF-8 bytes per token).

    >>> from course_utils.tokenization import BPETokenizer
    >>> language_costs({"GPT-2": BPETokenizer.from_gpt2()}, {"zh": "今天是个好日子"},
    ...                progress=False)
    {('GPT-2', 'zh'): (1.5714285714285714, 1.9090909090909092)}
    """
    if not isinstance(tokenizers, Mapping) or not isinstance(texts, Mapping):
        raise TypeError("tokenizers and texts must be dicts: name -> tokenizer, name -> text; "
                        f"got {type(tokenizers).__name__} and {type(texts).__name__}")
    for name, tok in tokenizers.items():
        _check_tok(tok, f"tokenizers[{name!r}]")
    for name, text in texts.items():
        check_str(f"texts[{name!r}]", text, nonempty=True)
    pairs = [(t, x) for t in tokenizers for x in texts]
    costs = {}
    for tok_name, text_name in _bar(pairs, "texts encoded", progress):
        text = texts[text_name]
        n = len(tokenizers[tok_name].encode_ordinary(text))
        costs[tok_name, text_name] = (n / len(text), len(text.encode("utf-8")) / n)
    return costs


def whole_token_chars(tok: Tokenizer, text: str) -> dict[str, Any]:
    """Which Chinese characters of `text` are one token on their own: how many distinct
    characters ("distinct"), how many of them are one token ("whole"), the share of the text's
    Chinese characters that are ("share of uses"), and the most used of those ("examples", 10).

    >>> from course_utils.tokenization import BPETokenizer
    >>> whole_token_chars(BPETokenizer.from_gpt2(), "天天是好日子")
    {'distinct': 5, 'whole': 3, 'share of uses': 0.6666666666666666, 'examples': '天是子'}
    """
    uses, tok = Counter(_HAN.findall(check_str("text", text))), _check_tok(tok)
    whole = [ch for ch, _ in uses.most_common() if len(tok.encode_ordinary(ch)) == 1]
    return {"distinct": len(uses), "whole": len(whole),
            "share of uses": sum(uses[ch] for ch in whole) / max(uses.total(), 1),
            "examples": "".join(whole[:10])}


def _glue(chunk: str) -> str | None:
    """Which kind of glue `chunk` is (see `glued_chunks`), or None."""
    han = _HAN.search(chunk) is not None
    if han and regex.search(r"[A-Za-z]", chunk):
        return "Chinese + Latin"
    if han and regex.search(r"\p{P}", chunk):
        return "punctuation + Chinese"
    if len(chunk) > 1 and regex.fullmatch(r"\p{P}+", chunk):
        return "punctuation run"
    return None


def glued_chunks(pattern: str, text: str) -> dict[str, Counter[str]]:
    """The chunks of `text` under the split `pattern` that glue Chinese to something else:
    "Chinese + Latin" (letters of both scripts in one chunk), "punctuation + Chinese", and
    "punctuation run" (two or more punctuation marks and nothing else). Counters of chunks.

    >>> from course_utils.tokenization import GPT2_SPLIT_PATTERN
    >>> glued = glued_chunks(GPT2_SPLIT_PATTERN, "用GPT写诗。“好”")
    >>> {kind: list(chunks) for kind, chunks in glued.items()}
    {'Chinese + Latin': ['用GPT写诗'], 'punctuation + Chinese': [], 'punctuation run': ['。“']}
    """
    kinds: dict[str, Counter[str]] = {k: Counter() for k in (
        "Chinese + Latin", "punctuation + Chinese", "punctuation run")}
    for chunk in regex.findall(check_str("pattern", pattern), check_str("text", text)):
        kind = _glue(chunk)
        if kind is not None:
            kinds[kind][chunk] += 1
    return kinds


def glued_tokens(tok: Tokenizer) -> dict[str, list[str]]:
    """The ordinary tokens of the vocabulary whose text glues Chinese to Latin letters or to
    punctuation (the first two kinds of `glued_chunks`): what BPE learned across those joins.

    >>> from course_utils.tokenization import BPETokenizer
    >>> glued_tokens(BPETokenizer.from_gpt2())
    {'Chinese + Latin': [], 'punctuation + Chinese': []}
    """
    special = set(getattr(_check_tok(tok), "special_tokens", {}).values())
    kinds: dict[str, list[str]] = {"Chinese + Latin": [], "punctuation + Chinese": []}
    for i in sorted(tok.vocab):
        text = tok.vocab[i].decode("utf-8", errors="ignore")
        kind = _glue(text) if i not in special else None
        if kind in kinds:
            kinds[kind].append(text)
    return kinds
