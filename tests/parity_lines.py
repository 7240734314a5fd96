"""Varied text for checking token ids against GPT-2's reference tokenizer, line by line.

`parity_lines()` returns the same list on every call and every machine (given the same
Python): lines of both corpora, Python source from the standard library, hand-written edge
cases (whitespace, contractions, numbers, emoji, scripts, special tokens), multi-line passages,
and lines glued together from random fragments with a fixed seed.
"""

from __future__ import annotations

import difflib
import heapq
import inspect
import json.decoder
import random
import string
import textwrap
import tokenize

from course_utils.data import load_corpus

WHITESPACE = [
    " ", "  ", "   ", "\t", "\t\t", " \t ", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r",
    "\u00a0", "\u00a0\u00a0", "\u3000", "\u2009", "\u200a", "\u2028", "\u2029", "\u0085",
    "\x0b", "\x0c", "\x1c", "\x1f", " \n ", "  \n\n  ", "\n \n", "\u200b", "\ufeff",
]
CONTRACTIONS = [
    "don't", "I'LL", "they're", "We'VE", "she'd", "it's", "I'm", "you'll", "He'D", "'s", "''",
    "rock 'n' roll", "o'clock", "don’t", "it’s", "'tis", "'twas", "ma'am", "y'all", "can't've",
    "Shakespeare's", "the dogs' bowls", "' s", "'re'", "'''", "l'amour", "'S'T'RE",
]
NUMBERS = [
    "0", "7", "42", "-42", "+3", "3.14159", "0.5", ".5", "5.", "1,000,000", "1.000.000,50",
    "2024-01-31", "31/12/1999", "12:30:45", "1e10", "6.02e23", "0x1F", "0b1010", "$1,234.56",
    "€99", "50%", "#1", "1st", "2nd", "3rd", "100km/h", "v2.3.1", "+1 (555) 123-4567",
    "١٢٣", "۴۵۶", "१२३", "½", "²", "Ⅻ", "①", "１２３", "12345678901234567890",
]
EMOJI = [
    "👋", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸🇬🇧", "❤️", "🧑🏿‍💻", "😀😃😄", "✌🏻", "1️⃣",
    "🫠", "👩🏻‍❤️‍💋‍👨🏼", "🤷‍♀️", "☕", "🎉🎉🎉", "©", "™", "🐍",
]
SCRIPTS = [
    "Привет, мир!", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "こんにちは世界", "カタカナ", "안녕하세요 세계", "สวัสดีชาวโลก", "Tiếng Việt có dấu",
    "e\u0301t\u00e9", "ﬁne ﬂow", "ＡＢＣ ｆｕｌｌ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "∑∫√∞ ≠ ≤", "ⓐⓑⓒ", "ǅemal",
    "İstanbul ıi", "straße STRASSE", "ᚠᚢᚦ", "ꦗꦮ", "𐌰𐌱𐌲", "今天是个好日子", "我爱北京天安门。",
    "日本語とEnglishのmix", "中文English混合123", "Ελληνικά and English", "Đà Nẵng",
]
SPECIAL = [
    "<|endoftext|>", "hello<|endoftext|>world", "<|endoftext|><|endoftext|>",
    " <|endoftext|> ", "<|endoftext", "endoftext|>", "<|endoftext|>\n", "\n<|endoftext|>",
    "The end.<|endoftext|>Once upon a time", "<|end|>", "<|ENDOFTEXT|>", "<<|endoftext|>>",
    "<|endoftext|>今天", "  <|endoftext|>  x",
]
ODD = [
    "", "a", " a", "a ", "  a  ", "A", "\x00", "\x7f", "\x01\x02", "\ufffd", "\U0010ffff",
    "\ue000", "a" * 300, " " * 100, "ab" * 80, "!!!???...", "---", "...", "…", "~~~~", "@@",
    "http://example.com/path?q=1&x=2#frag", "user@example.com", "C:\\Users\\x", "<html>",
    "{\"key\": [1, 2, 3]}", "x=y+z*2", "snake_case camelCase PascalCase", "__init__",
    "tab\tseparated\tvalues", "trailing spaces   ", "   leading spaces", "a\u3000b",
    "end\n", "\nstart", "line1\r\nline2\r\n", "mixed \t \n whitespace", "a\u00a0b",
]


def _python_lines() -> list[str]:
    """Lines of standard-library source: indentation, operators, strings, docstrings."""
    lines = []
    for module in (textwrap, string, heapq, json.decoder, tokenize, difflib):
        lines += [line for line in inspect.getsource(module).splitlines() if line.strip()]
    return lines


def _passages(lines: list[str], rng: random.Random, n: int) -> list[str]:
    """`n` runs of 2 to 6 consecutive lines, joined by newlines of several kinds."""
    joins = ["\n", "\r\n", "\n\n", "  \n"]
    out = []
    for _ in range(n):
        start = rng.randrange(len(lines) - 6)
        out.append(rng.choice(joins).join(lines[start:start + rng.randint(2, 6)]))
    return out


def parity_lines() -> list[str]:
    """Return about 17,000 distinct lines of varied text, always the same ones."""
    rng = random.Random(0)
    shakespeare_val = [s for s in load_corpus("shakespeare", "val").splitlines() if s]
    shakespeare_train = [s for s in load_corpus("shakespeare", "train").splitlines() if s]
    poetry = [s for s in load_corpus("poetry_zh", "val").splitlines() if s]
    python = _python_lines()

    hand = WHITESPACE + CONTRACTIONS + NUMBERS + EMOJI + SCRIPTS + SPECIAL + ODD
    # Each hand-written piece also inside a sentence, where spaces before and after matter.
    hand += [f"Say {piece} twice: {piece}{piece}." for piece in hand]
    fragments = hand + ["the", " the", "The", "and", "Hamlet", "你好", "，", "。", "(", ")",
                        '"', "'", ",", ".", ":", ";", "?", "!", "-", "_", "/", "\\", "="]
    glued = ["".join(rng.choice(fragments) for _ in range(rng.randint(1, 12)))
             for _ in range(2500)]

    lines = (shakespeare_val + shakespeare_train[::10] + poetry + python + hand + glued
             + _passages(shakespeare_train, rng, 150) + _passages(poetry, rng, 100)
             + _passages(python, rng, 150))
    return list(dict.fromkeys(lines))  # drop repeats, keep the order
