"""The sentence of `course_utils.validation`'s errors, in the course's two languages.

Every argument check ends in one sentence: "<name> must be <what>, got <value>; <fix>". In
Chinese it reads "<name>应为<what>，实际为<value>；<fix>". The argument's name, the value and
the fix (code such as `e.g. seed=0`) stay as they are; the words around them, and the common
kinds of <what> ("an int >= 1", "True or False", "one of 'a', 'b'"), are translated from the
table below. A <what> that a caller wrote itself ("a GPTConfig") loses its article and is
otherwise kept: it names a class.

>>> from course_utils.language import set_language
>>> set_language("zh"); must_be("top_k", "an int >= 1", "True (bool)", None)
'top_k应为int（>= 1），实际为True (bool)'
>>> set_language("en"); must_be("top_k", "an int >= 1", "True (bool)", None)
'top_k must be an int >= 1, got True (bool)'
"""

from __future__ import annotations

import re

from course_utils.language import say

__all__ = ["must_be", "must_have_dims", "KINDS_ZH"]

# The kinds of value that validation's checks ask for, longest first where one starts another.
KINDS_ZH = {
    "a path (a non-empty str or pathlib.Path)": "路径（非空的str或pathlib.Path）",
    "a number within a float's range (about ±1.8e308)": "float能表示的数（约±1.8e308以内）",
    "a torch device such as 'cpu' or 'cuda'": "torch设备，如'cpu'或'cuda'",
    "an int from 0 to 2**64 - 1": "0到2**64 - 1之间的int",
    "a floating-point torch.Tensor": "浮点型torch.Tensor",
    "an integer torch.Tensor": "整数型torch.Tensor",
    "a bool torch.Tensor": "bool型torch.Tensor",
    "a torch.Tensor": "torch.Tensor",
    "a non-empty str": "非空的str",
    "a str": "str",
    "True or False": "True或False",
    "a finite number": "有限的数",
    "a number": "数",
    "an int": "int",
}
# " in [0, 1]", " >= 1", " < 5": the range after a numeric kind; " or None" after that.
_RANGE = re.compile(r" (in [\[(].*[\])]|[<>]=? \S+)")


def _what_zh(what: str) -> str:
    """The Chinese for `what`, the English description of the expected value."""
    if what.startswith("one of "):
        return "以下之一：" + what[len("one of "):]
    optional = what.endswith(" or None")
    what = what.removesuffix(" or None")
    kind = next((k for k in KINDS_ZH if what == k or (what.startswith(k)
                                                       and _RANGE.fullmatch(what[len(k):]))), None)
    if kind is None:  # a caller's own words, such as "a GPTConfig": the class name is kept
        text = re.sub(r"^(a|an) ", "", what)
    else:
        text, bounds = KINDS_ZH[kind], what[len(kind):].strip()
        if bounds:
            text += f"（取值{bounds[3:]}）" if bounds.startswith("in ") else f"（{bounds}）"
    return text + ("或None" if optional else "")


def must_be(name: str, what: str, shown: str, fix: str | None) -> str:
    """"<name> must be <what>, got <shown>; <fix>" in the current language."""
    if fix:
        return say(f"{name} must be {what}, got {shown}; {fix}",
                   f"{name}应为{_what_zh(what)}，实际为{shown}；{fix}")
    return say(f"{name} must be {what}, got {shown}", f"{name}应为{_what_zh(what)}，实际为{shown}")


def must_have_dims(name: str, count: str, shape: str, got: tuple[int, ...],
                   fix: str | None) -> str:
    """"<name> must have <count> dimensions <shape>, got shape <got>" in the current language."""
    english = f"{name} must have {count} dimensions{' ' + shape if shape else ''}, got shape {got}"
    chinese = (f"{name}应有{count.replace(' or ', '或')}个维度{shape}，实际形状为{got}")
    return say(english, chinese) + (say(f"; {fix}", f"；{fix}") if fix else "")
