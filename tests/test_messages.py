"""The Chinese exercise feedback: the same results as the English table, said in Chinese.

`messages_zh.CHINESE` has every code of `messages_en.ENGLISH`, in the same order, with the same
{placeholders}; its sentences follow the glossary and Chinese punctuation. Every exercise test
that judges an answer (`exercise_judge.judge`) also renders the result in Chinese with the
parameters the check passed, and fails if the line falls back to English.
"""

from __future__ import annotations

import math
import os
import re
import string
import subprocess
import sys
import unicodedata

import pytest
import torch

from course_utils import exercises as ex
from course_utils import language
from course_utils.exercises import feedback
from course_utils.exercises.messages import MESSAGES
from course_utils.exercises.messages_en import ENGLISH
from course_utils.exercises.messages_zh import CHINESE
from exercise_judge import assert_speaks_chinese, in_language, judge
from test_exercises import CHECKS as RIGHT_ANSWERS

CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"
# English words of the feedback and the Chinese each sentence using them must use (GLOSSARY.md)
TERMS = {"token": "词元", "merge": "合并", "vocabulary": "词表", "code point": "码位",
         "special token": "特殊词元", "perplexity": "困惑度", "cross-entropy": "交叉熵",
         "attention": "注意力", "padding": "填充", "causal mask": "因果掩码", "gradient": "梯度",
         "temperature": "温度", "beam": "束", "bigram": "二元语法", "trigram": "三元语法",
         "loss": "损失", "embedding": "嵌入"}
FORMULAS = {"add_one.not_quite"}  # a formula in words: its parentheses stay ASCII


@pytest.fixture(autouse=True)
def english_afterwards():
    chosen = language._chosen[:]
    yield
    language._chosen[:] = chosen


def placeholders(sentence: str) -> list[tuple[str, str, str | None]]:
    """Each {field} of a format string as (name, format spec, conversion), in order."""
    return [(name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(sentence)
            if name is not None]


def width(text: str) -> int:
    """Columns `text` takes in a terminal: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_the_tables_have_the_same_codes_in_the_same_order():
    assert list(CHINESE) == list(ENGLISH)
    assert MESSAGES["zh"] is CHINESE


@pytest.mark.parametrize("code", list(ENGLISH))
def test_each_sentence_has_the_english_placeholders(code):
    assert sorted(placeholders(CHINESE[code])) == sorted(placeholders(ENGLISH[code]))


@pytest.mark.parametrize("code", list(ENGLISH))
def test_each_sentence_is_one_chinese_line_no_longer_than_the_english(code):
    sentence = CHINESE[code]
    assert sentence.splitlines() == [sentence] and sentence.isprintable(), code
    assert re.search(CJK, sentence), code  # no English sentence copied over
    assert len(sentence) <= len(ENGLISH[code]), code
    assert width(sentence) <= width(ENGLISH[code]) + 4, code  # a little wider at most


@pytest.mark.parametrize("code", list(ENGLISH))
def test_chinese_sentences_use_full_width_punctuation(code):
    # ，：；！？ between Chinese words; ASCII punctuation stays inside code and formulas
    assert not re.search(f"{CJK}[,:;!?]|[,:;!?]{CJK}", CHINESE[code]), CHINESE[code]
    if code not in FORMULAS:  # (…) around Chinese words is （…）
        assert not re.search(r"\(\s*[\u3400-\u9fff][^()]*\)", CHINESE[code]), code


def test_the_sentences_use_the_glossary_terms():
    # the forms to avoid: tests/test_glossary.py
    for code, english in ENGLISH.items():
        prose = re.sub(r"\{[^{}]*\}|\S*[_.(]\S*", " ", english.lower())  # no fields, no code
        for term, chinese in TERMS.items():
            if re.search(rf"\b{re.escape(term)}s?\b", prose):
                assert chinese in CHINESE[code], (code, term, chinese)


def test_a_check_speaks_the_chosen_language(capsys):
    ex.set_language("zh")
    ex.check_utf8_bytes(9)
    ex.check_utf8_bytes(None)
    ex.set_language("en")
    ex.check_utf8_bytes(9)
    assert capsys.readouterr().out.splitlines() == [
        "✗ 这是字符（码位）的个数，不是字节数", "… 尚未作答：把上面的None换成你的答案",
        "✗ that is the number of characters (code points), not bytes"]


@pytest.mark.parametrize(("check", "answer"), RIGHT_ANSWERS,
                         ids=lambda c: getattr(c, "__name__", ""))
def test_right_and_wrong_answers_get_chinese_lines(capsys, check, answer):
    ex.set_language("zh")
    with feedback.recording() as results:
        check(answer)
        check(None)
        check("")  # a refusal: "give a number", "expected a function", …
    lines = capsys.readouterr().out.splitlines()
    assert [r.text for r in results] == lines and len(lines) == 3
    assert results[0].outcome == "correct" and lines[0].startswith("✓ 正确："), lines[0]
    for result in results:
        assert re.search(CJK, result.text), result.text
        assert_speaks_chinese(result)


def _heads_doubled(x, n_head):
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2) * 2


def _mask_with_a_hole(T):
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    mask[-1, 0] = T < 3
    return mask


# Hints the other exercise tests do not reach: (check, answer, the code it gets)
HINTS = [
    (ex.check_bigram_mle, 1 / 9, "bigram_mle.uniform"),
    (ex.check_bigram_mle, 2 / 6, "bigram_mle.word_count"),
    (ex.check_add_one, 1 / 3, "add_one.add_vocabulary"),
    # the corpus size instead of c(dog ·): the tiny corpus has 20 tokens, 9 distinct words
    (ex.check_add_one, (0 + 1) / (20 + 9), "add_one.corpus_size"),
    (ex.check_perplexity, 1.75 * math.log(2), "perplexity.nats"),
    (ex.check_perplexity, 128, "perplexity.inverse_probability"),
    (ex.check_distinct_trigrams, 5, "distinct_trigrams.distinct_characters"),
    (ex.check_bits_per_byte, 3.0 * 2.5 / math.log(2), "bits_per_byte.multiplied"),
    (ex.check_initial_loss, 1 / 1024, "initial_loss.probability"),
    (ex.check_temperature, math.exp(1) / (math.exp(1) + math.exp(0.5) + 1),
     "temperature.multiplied"),
    (ex.check_temperature, 4 / 6, "temperature.no_exp"),
    (ex.check_nucleus_size, 1, "nucleus_size.one"),
    (ex.check_repetition_penalty, [2.5, -1.25], "repetition_penalty.positive_multiplied"),
    (ex.check_repetition_penalty, [0, 0], "repetition_penalty.not_quite"),
    (ex.check_pretokenize,
     ["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!", ""],
     "pretokenize.count"),
    (ex.check_causal_mask, _mask_with_a_hole, "causal_mask.wrong"),
    (ex.check_split_heads, _heads_doubled, "split_heads.wrong_values"),
]


@pytest.mark.parametrize(("check", "answer", "code"), HINTS, ids=[h[2] for h in HINTS])
def test_more_hints_get_chinese_lines(capsys, check, answer, code):
    result = judge(capsys, check, answer)  # judge renders it in Chinese too
    assert result.code == code
    ex.set_language("zh")
    assert judge(capsys, check, answer).text == in_language(
        "zh", feedback.Verdict(result.outcome, code, dict(result.params)))


def test_hidden_output_is_counted_in_chinese(capsys):
    ex.set_language("zh")
    result = judge(capsys, ex.check_count_pairs, lambda counts: print("1\n2") or {})
    assert result.text.endswith("应为{(32, 116): 4, (116, 104): 4, (104, 101): 4, (101, 110): 1} "
                               "（你的代码打印了2行，此处已隐藏）"), result.text


def test_a_missing_or_ill_fitting_chinese_sentence_is_caught(monkeypatch):
    result = feedback.Result("check_gd_step", "returned", "wrong",
                             {"name": "f", "args": "1", "got": 2, "expected": 3}, "")
    assert_speaks_chinese(result)
    assert in_language("zh", feedback.Verdict("wrong", "returned", dict(result.params))) == \
        "✗ f(1)返回了2，应为3"
    for table in ({}, {"returned": "{name}({args})返回了{got}，应为{wanted}"},
                  {"returned": "返回了{got:,}"}, {"returned": "{name}({args})返回了{got!r}"[:-1]}):
        monkeypatch.setitem(MESSAGES, "zh", table)
        with pytest.raises((AssertionError, KeyError, ValueError)):
            assert_speaks_chinese(feedback.Result(
                "check_gd_step", "returned", "wrong", {**result.params, "got": "x"}, ""))


def test_setup_notebook_chooses_the_language(repo_root):
    code = (
        "from course_utils import setup_notebook\n"
        "from course_utils.exercises import check_gd_step\n"
        "setup_notebook(language='zh')\n"
        "check_gd_step(1.4)\n"
        "check_gd_step(0.6)\n"
        "setup_notebook()\n"
        "check_gd_step(1.4)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != language.ENV_VAR}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=repo_root, env=env | {"PYTHONIOENCODING": "utf-8"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "✓ 正确：∇L(1) = 2(1 − 3) = −4，所以θ ← 1 − 0.1 · (−4) = 1.4",
        "✗ 你沿着梯度方向走了一步：更新要减去lr·∇L，才是往下坡走",
        "✓ correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4"]
