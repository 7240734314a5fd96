"""The Chinese edition uses the glossary's terms (notebooks/zh/GLOSSARY.md) and none it avoids.

For every zh notebook (and the Chinese README and feedback table):
- no form from the "不用" column appears in its prose, comments, strings or outputs;
- every term its English twin uses in prose appears in its preferred Chinese form, and its
  first-use form (the English in parentheses) appears in the notebook's prose.
Code (code cells, `code spans`, fenced blocks) is not prose: names such as `KVCache` stay.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ZH_DIR = REPO_ROOT / "notebooks" / "zh"
GLOSSARY = ZH_DIR / "GLOSSARY.md"
EN_NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (REPO_ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))
KEEP_ENGLISH = "（保留英文）"


def glossary_rows() -> list[dict]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or cells[0] in ("English", "---"):
            continue
        english, chinese, avoid, first = cells
        rows.append({"english": [e.strip() for e in english.split(",")],
                     "chinese": chinese.replace(KEEP_ENGLISH, "").strip(),
                     "avoid": [a.strip() for a in avoid.split("、") if a.strip()],
                     "first": first})
    return rows


ROWS = glossary_rows()


def without_code(markdown: str) -> str:
    return re.sub(r"```.*?```|`[^`]*`", " ", markdown, flags=re.S)


def code_text(source: str) -> str:
    """The comments and string literals of a code cell (f-string text included)."""
    kinds = {tokenize.COMMENT, tokenize.STRING} | {
        getattr(tokenize, "FSTRING_MIDDLE", -1)}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    return "\n".join(t.string for t in tokens if t.type in kinds)


def texts(path: Path) -> tuple[str, str]:
    """(prose of the markdown cells, everything a reader reads: prose, comments, strings,
    outputs) of a notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    prose, rest = [], []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            prose.append(without_code(source))
            continue
        rest.append(code_text(source))
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            rest.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(prose), "\n".join(prose + rest)


def squash(text: str) -> str:
    """Compare first-use forms without caring about half- or full-width punctuation."""
    table = str.maketrans({"（": "(", "）": ")", "，": ",", "、": ","})
    return re.sub(r"\s+", "", text.translate(table)).lower()


def uses(text: str, english: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(english)}s?(?![\w-])", text, re.I) is not None


def test_the_glossary_parses():
    assert len(ROWS) >= 40
    by_term = {e: row for row in ROWS for e in row["english"]}
    assert by_term["token"]["chinese"] == "词元" and "令牌" in by_term["token"]["avoid"]
    assert by_term["tokenization"]["chinese"] == "分词"
    assert by_term["beam search"]["chinese"] == "束搜索"
    assert by_term["KV cache"]["chinese"] == "键值缓存"
    assert by_term["Transformer"]["chinese"] == "Transformer"
    for row in ROWS:  # else writing the preferred form would count as writing an avoided one
        assert all(a not in row["chinese"] for a in row["avoid"]), row["english"]


PAIRS = [(en, ZH_DIR / en.relative_to(REPO_ROOT / "notebooks")) for en in EN_NOTEBOOKS]


@pytest.mark.parametrize("en, zh", PAIRS, ids=[en.stem for en, _ in PAIRS])
def test_zh_notebook_follows_the_glossary(en, zh):
    if not zh.exists():
        pytest.fail(f"{zh.relative_to(REPO_ROOT)} is missing (tools/translation.py new)")
    en_prose, _ = texts(en)
    zh_prose, zh_all = texts(zh)
    avoided = sorted({a for row in ROWS for a in row["avoid"] if a in zh_all})
    assert avoided == [], f"forms the glossary avoids: {avoided}"
    missing, no_first_use = [], []
    for row in ROWS:
        if any(uses(en_prose, e) for e in row["english"]):
            if row["chinese"] not in zh_all:
                missing.append(f"{row['english'][0]} → {row['chinese']}")
            elif squash(row["first"]) not in squash(zh_prose):
                no_first_use.append(row["first"])
    assert missing == [], f"terms the English notebook uses, missing in Chinese: {missing}"
    assert no_first_use == [], f"write these on first use, English in parentheses: {no_first_use}"


def test_other_chinese_text_avoids_the_same_forms():
    from course_utils.exercises.messages_zh import CHINESE

    sources = {"messages_zh": "\n".join(CHINESE.values())}
    instructors = REPO_ROOT / "instructors"
    for path in [REPO_ROOT / "README.zh.md", *sorted((instructors / "zh").glob("*.md")),
                 *sorted((instructors / "plans" / "zh").glob("*.toml")),
                 instructors / "challenge" / "README.zh.md"]:
        if path.exists():
            text = path.read_text(encoding="utf-8")
            sources[str(path.relative_to(REPO_ROOT))] = without_code(text)
    found = {name: sorted({a for row in ROWS for a in row["avoid"] if a in text})
             for name, text in sources.items()}
    assert found == {name: [] for name in sources}
