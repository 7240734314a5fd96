"""Special tokens in text: which ones `encode` recognises, and what it does with the others.

A special token such as "<|endoftext|>" has one id of its own, and marks something the text
itself cannot say: the end of a document, a turn of a conversation. If `encode` recognised it
anywhere in any text, a user who types those 13 characters could end the document or forge a
turn: prompt injection. So, as in tiktoken, each call says which special tokens it expects:

- `allowed_special`: "all", or the names recognised as their ids;
- `disallowed_special`: "all" (every special token not allowed, the default), or the names
  that make `encode` raise if the text contains them;
- a special token in neither set is ordinary text, split and merged like any other.

The default — nothing allowed, everything disallowed — is safe: text that looks like a special
token is an error that explains the choice, never silently one id or the other. Special tokens
are found left to right; where several start at the same character ("<|im_start|>" and
"<|im_start|>user"), the longest wins.

Left out: HF's per-token options (stripping the spaces around a token, matching only whole
words), and unknown tokens (a byte-level vocabulary has none).

>>> policy = SpecialPolicy.resolve(["<|endoftext|>", "<|pad|>"], "all", ())
>>> sorted(policy.allowed), sorted(policy.disallowed)
(['<|endoftext|>', '<|pad|>'], [])
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property

import regex

from course_utils.language import say
from course_utils.validation import short_repr

__all__ = ["SpecialPolicy", "special_regex"]


@functools.lru_cache(maxsize=64)
def special_regex(names: frozenset[str]) -> regex.Pattern[str] | None:
    """A regex that finds the special tokens `names` in text (longest first), or None if none.

    >>> special_regex(frozenset(["<a>", "<a>b"])).findall("x<a>b<a>")
    ['<a>b', '<a>']
    """
    # An alternation tries its alternatives in order: the longest first, so that a special
    # token that begins with a shorter one wins.
    ordered = sorted(names, key=lambda name: (-len(name), name))
    return regex.compile("|".join(map(regex.escape, ordered))) if ordered else None


def _names(argument: str, value: object, declared: Collection[str]) -> frozenset[str]:
    """The names an `allowed_special` or `disallowed_special` argument stands for, checked."""
    if value == "all":
        return frozenset(declared)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f'{argument} must be "all" or a collection of special token names, '
                        f"got {short_repr(value)}; e.g. {argument}={{'<|endoftext|>'}}")
    try:
        names = frozenset(value)
    except TypeError:  # an unhashable item: a list inside the list
        raise TypeError(f'{argument} must be "all" or a collection of special token names '
                        f"(strs), got {short_repr(value)}") from None
    unknown = sorted(map(repr, names - set(declared)))
    if unknown:
        raise ValueError(f"{argument} names {', '.join(unknown)}, which "
                         f"{'is' if len(unknown) == 1 else 'are'} not a special token of this "
                         f"tokenizer; its special tokens are {sorted(declared)} (add one with "
                         "add_special_tokens)")
    return names


@dataclass(frozen=True)
class SpecialPolicy:
    """One call's choice: `allowed` names become their ids; `disallowed` names raise."""

    allowed: frozenset[str]
    disallowed: frozenset[str]

    @classmethod
    def resolve(cls, declared: Collection[str], allowed_special: object,
                disallowed_special: object) -> SpecialPolicy:
        """Turn `encode`'s two arguments into sets of names, checked against `declared`.

        >>> SpecialPolicy.resolve(["<|endoftext|>"], (), "all").disallowed
        frozenset({'<|endoftext|>'})
        """
        allowed = _names("allowed_special", allowed_special, declared)
        if disallowed_special == "all":
            disallowed = frozenset(declared) - allowed
        else:
            disallowed = _names("disallowed_special", disallowed_special, declared)
        both = sorted(allowed & disallowed)
        if both:
            raise ValueError(f"{both} cannot be both allowed and disallowed; leave them out of "
                             "disallowed_special")
        return cls(allowed, disallowed)

    @property
    def split(self) -> regex.Pattern[str] | None:
        """The regex that finds the allowed special tokens (None if none is allowed)."""
        return special_regex(self.allowed)

    @cached_property
    def longest(self) -> int:
        """The length of the longest special token this policy looks for (0 if none)."""
        return max(map(len, self.allowed | self.disallowed), default=0)

    def check(self, text: str, offset: int = 0) -> None:
        """Raise ValueError if `text` contains a disallowed special token, saying why (and
        where: `offset` is the position of `text` in a longer text it is part of).

        >>> SpecialPolicy.resolve(["<|endoftext|>"], (), "all").check("hi<|endoftext|>")
        Traceback (most recent call last):
        ...
        ValueError: the text contains the special token '<|endoftext|>' (at character 2), which \
this call does not allow: text from a user could end a document or fake a turn of the \
conversation with it (prompt injection). If the text is trusted and '<|endoftext|>' means the \
special token, pass allowed_special={'<|endoftext|>'} (or "all"); to encode it as ordinary \
text, pass disallowed_special=() or use encode_ordinary
        """
        found = special_regex(self.disallowed).search(text) if self.disallowed else None
        if found:
            name, at = found.group(), offset + found.start()
            raise ValueError(say(
                f"the text contains the special token {name!r} (at character {at}), "
                "which this call does not allow: text from a user could end a document or fake "
                "a turn of the conversation with it (prompt injection). If the text is trusted "
                f"and {name!r} means the special token, pass allowed_special={{{name!r}}} (or "
                '"all"); to encode it as ordinary text, pass disallowed_special=() or use '
                "encode_ordinary",
                f"文本含有特殊词元{name!r}（在第{at}个字符处），这次调用不允许它出现：用户输入的文本"
                "可以借它结束一篇文档，或伪造对话中的一轮（提示注入）。如果文本可信，而且"
                f"{name!r}确实表示特殊词元，请传入allowed_special={{{name!r}}}（或\"all\"）；"
                "若要把它当作普通文本编码，请传入disallowed_special=()，或使用encode_ordinary"))

    @cached_property
    def prefixes(self) -> frozenset[str]:
        """Every proper prefix of a special token looked for: text that may be the start of
        one, if more text follows (streaming keeps it back).

        >>> sorted(SpecialPolicy.resolve(["<a>"], "all", ()).prefixes)
        ['<', '<a']
        """
        return frozenset(name[:k] for name in self.allowed | self.disallowed
                         for k in range(1, len(name)))
