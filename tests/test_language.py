"""The package speaks the learner's language: English by default, Chinese when asked.

Chosen by set_language / setup_notebook(language="zh") or, on the command line, by the
environment variable LLM_TOKENS_LANGUAGE. What follows it here: the argument checks' sentence,
the progress-bar labels, the errors the notebooks print, and `make check`'s report. English
stays byte-identical to what the English tests and notebooks compare.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils import (bpe, checkpoint, doctor, language, progress, tokenizer_pitfalls,
                          training)
from course_utils.language import ENV_VAR, get_language, say, set_language
from course_utils.merge_table import MergeTable
from course_utils.model import GPT, GPTConfig
from course_utils.ngram_counts import NGramCounts
from course_utils.special_tokens import SpecialPolicy
from course_utils.validation import (check_bool, check_choice, check_int, check_number, check_seed,
                                     check_str, check_tensor, check_type)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_language(monkeypatch):
    """No language chosen and no LLM_TOKENS_LANGUAGE: each test starts in English."""
    monkeypatch.setattr(language, "_chosen", [])
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture(params=["set_language", "env"])
def zh(request, monkeypatch):
    """Chinese, chosen either way a learner can choose it."""
    if request.param == "set_language":
        set_language("zh")
    else:
        monkeypatch.setenv(ENV_VAR, "zh")
    assert get_language() == "zh"


def message(call) -> str:
    with pytest.raises(Exception) as info:
        call()
    return str(info.value)


# --- choosing the language ----------------------------------------------------------------------

def test_english_is_the_default_and_each_way_of_choosing_works(monkeypatch):
    assert get_language() == "en" and say("training", "训练") == "training"
    monkeypatch.setenv(ENV_VAR, " ZH ")  # as a shell user may type it
    assert say("training", "训练") == "训练"
    set_language("en")  # the notebook's choice wins over the environment
    assert say("training", "训练") == "training"


@pytest.mark.parametrize("value", ["fr", "chinese", "zh-CN"])
def test_an_unknown_environment_value_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    wanted = rf"environment variable {ENV_VAR} .*got '{value.lower()}'"
    with pytest.raises(ValueError, match=wanted):
        say("training", "训练")


def test_set_language_refuses_what_it_does_not_speak():
    assert message(lambda: set_language("fr")) == "language must be one of 'en', 'zh', got 'fr'"
    assert message(lambda: set_language(True)) == "language must be a str, got True (bool)"
    set_language("zh")
    assert message(lambda: set_language("fr")) == "language应为以下之一：'en', 'zh'，实际为'fr'"
    assert get_language() == "zh"  # a refused choice changes nothing


# --- the argument checks ------------------------------------------------------------------------

CHECKS = [  # call, English (as the English tests and notebooks read it), Chinese
    (lambda: check_int("top_k", True, minimum=1),
     "top_k must be an int >= 1, got True (bool)", "top_k应为int（>= 1），实际为True (bool)"),
    (lambda: check_int("num_threads", 0, minimum=1, maximum=1024, optional=True),
     "num_threads must be an int in [1, 1024] or None, got 0",
     "num_threads应为int（取值[1, 1024]）或None，实际为0"),
    (lambda: check_number("lr", "0.1", minimum=0, min_open=True),
     "lr must be a finite number > 0, got '0.1'", "lr应为有限的数（> 0），实际为'0.1'"),
    (lambda: check_number("p", 2.0, minimum=0, maximum=1, fix="e.g. p=0.9"),
     "p must be a number in [0, 1], got 2.0; e.g. p=0.9", "p应为数（取值[0, 1]），实际为2.0；e.g. p=0.9"),
    (lambda: check_bool("use_cache", 1),
     "use_cache must be True or False, got 1", "use_cache应为True或False，实际为1"),
    (lambda: check_choice("strategy", "beam_search", ("greedy", "beam")),
     "strategy must be one of 'greedy', 'beam', got 'beam_search'",
     "strategy应为以下之一：'greedy', 'beam'，实际为'beam_search'"),
    (lambda: check_str("text", "", nonempty=True),
     "text must be a non-empty str, got ''", "text应为非空的str，实际为''"),
    (lambda: check_seed("seed", 2**70),
     "seed must be an int from 0 to 2**64 - 1, got 1180591620717411303424; e.g. seed=0",
     "seed应为0到2**64 - 1之间的int，实际为1180591620717411303424；e.g. seed=0"),
    (lambda: check_type("config", {}, int, "a GPTConfig"),
     "config must be a GPTConfig, got {} (dict)", "config应为GPTConfig，实际为{} (dict)"),
    (lambda: check_tensor("x", torch.zeros(4), ndim=3, shape="(B, T, C)"),
     "x must have 3 dimensions (B, T, C), got shape (4,)", "x应有3个维度(B, T, C)，实际形状为(4,)"),
    (lambda: check_tensor("idx", torch.zeros(2), kind="integer"),
     "idx must be an integer torch.Tensor, got dtype torch.float32",
     "idx应为整数型torch.Tensor，实际为dtype torch.float32"),
]


@pytest.mark.parametrize(("call", "english", "chinese"), CHECKS)
def test_an_argument_check_speaks_english_by_default(call, english, chinese):
    assert message(call) == english


@pytest.mark.parametrize(("call", "english", "chinese"), CHECKS)
def test_an_argument_check_speaks_chinese_when_asked(zh, call, english, chinese):
    assert message(call) == chinese


# --- progress bars ------------------------------------------------------------------------------

def record_labels(monkeypatch, module) -> list[str]:
    """Replace `module.progress_bar` with one that records its label and shows nothing."""
    labels: list[str] = []

    @contextlib.contextmanager
    def progress_bar(total, desc, **kwargs):
        labels.append(desc)
        yield type("Bar", (), {"update": lambda self, n=1: None,
                               "set_postfix": lambda self, *a, **k: None})()

    monkeypatch.setattr(module, "progress_bar", progress_bar)
    return labels


def test_progress_labels(monkeypatch):
    labels = record_labels(monkeypatch, bpe)
    bpe.train_naive([[1, 2, 1, 2]], [1], 1, progress=False)
    bpe.train_fast([[1, 2, 1, 2]], [1], 1, progress=False)
    pitfalls = record_labels(monkeypatch, tokenizer_pitfalls)
    tok = type("Bytes", (), {"vocab": {i: bytes([i]) for i in range(256)},
                             "encode_ordinary": staticmethod(lambda text: list(text.encode()))})()
    tokenizer_pitfalls.language_costs({"bytes": tok}, {"zh": "好"}, progress=False)
    assert labels + pitfalls == ["BPE merges", "BPE merges", "texts encoded"]
    assert [progress.label(x) for x in labels + pitfalls] == labels + pitfalls
    set_language("zh")
    assert [progress.label(x) for x in labels + pitfalls] == ["BPE合并", "BPE合并", "已编码文本"]
    assert progress.label("steps") == "steps"  # a label without a translation stays as it is


def test_the_training_bar_label(monkeypatch, zh):
    labels = record_labels(monkeypatch, training)
    config = GPTConfig(vocab_size=8, block_size=4, n_layer=1, n_head=1, n_embd=8)
    data = torch.arange(40) % 8
    training.train(GPT(config), data, data, training.TrainConfig(
        batch_size=2, num_steps=1, eval_interval=1, eval_batches=1, warmup_steps=0,
        progress=False))
    assert [progress.label(x) for x in labels] == ["训练"]


@pytest.mark.parametrize("language, shown", [("en", "BPE merges"), ("zh", "BPE合并")])
def test_the_bar_shows_the_label_in_the_current_language(monkeypatch, language, shown):
    import tqdm.auto

    made = []

    class Bar:  # records what tqdm would be given
        def __init__(self, **kwargs):
            made.append(kwargs["desc"])
            self.n, self.disable = 0, True

        def update(self, n=1):
            self.n += n

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setenv("TQDM_DISABLE", "0")
    set_language(language)
    with progress.progress_bar(2, "BPE merges") as bar:
        bar.update(2)
    assert made == [shown]


# --- the errors the notebooks print -------------------------------------------------------------

def missing_byte() -> str:  # notebook 01: SmolLM2 has no token for the byte 0x04
    vocab = {i: bytes([b]) for i, b in enumerate(b for b in range(256) if b != 4)}
    table = MergeTable.build(vocab, [], set())
    return message(lambda: table.encode_chunk("a\x04b"))


def special_token() -> str:  # notebook 01: the default refuses a special token in the text
    policy = SpecialPolicy.resolve(["<|endoftext|>"], (), "all")
    return message(lambda: policy.check("hi<|endoftext|>"))


def too_much_memory() -> str:  # notebook 02: an order-12 fit refused before it fills memory
    return message(lambda: NGramCounts("abcdefghij" * 100, order=5, max_memory_gb=1e-6))


def another_config(tmp_path) -> str:  # notebook 04: a checkpoint of another model
    small = GPT(GPTConfig(vocab_size=8, block_size=4, n_layer=1, n_head=1, n_embd=8))
    checkpoint.write_checkpoint(tmp_path / "run", small, torch.optim.SGD(small.parameters()),
                                {}, {})
    deeper = GPT(GPTConfig(vocab_size=8, block_size=4, n_layer=2, n_head=1, n_embd=8))
    return message(lambda: checkpoint.read_checkpoint(tmp_path / "run", deeper))


def test_the_notebooks_errors_in_english(tmp_path):
    assert missing_byte() == ("'a\\x04b' holds the byte 0x04, which has no token in this "
                              "vocabulary (it lacks 1 of the 256 bytes); remove or replace such "
                              "characters before encoding")
    assert special_token().startswith("the text contains the special token '<|endoftext|>' (at "
                                      "character 2), which this call does not allow")
    assert too_much_memory().startswith("an order-5 fit would need about ")
    assert too_much_memory().endswith("; lower the order, fit on less text, or raise "
                                      "max_memory_gb if the machine has the memory")
    assert another_config(tmp_path) == (
        f"the checkpoint in {tmp_path / 'run'} is of a model with another config: n_layer=1 "
        f"(model: 2); build the model with the checkpoint's config")


def test_the_notebooks_errors_in_chinese(tmp_path, zh):
    assert missing_byte() == ("'a\\x04b'含有字节0x04，这个词表里没有它的词元（256个字节中缺了1个）；"
                              "编码前请删除或替换这样的字符")
    assert special_token().startswith("文本含有特殊词元'<|endoftext|>'（在第2个字符处）")
    assert "allowed_special={'<|endoftext|>'}" in special_token()
    assert too_much_memory().startswith("5阶的拟合约需")
    assert "max_memory_gb=1e-06" in too_much_memory()
    assert another_config(tmp_path) == (f"{tmp_path / 'run'}中的检查点属于另一种配置的模型："
                                        f"n_layer=1 (模型：2)；请按检查点的配置构建模型")


# --- make check ---------------------------------------------------------------------------------

def run_doctor(env_value: str | None) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if env_value is not None:
        env[ENV_VAR] = env_value
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run([sys.executable, "-m", "course_utils.doctor"], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=REPO_ROOT, timeout=300)
    return done.stdout


@pytest.mark.slow
def test_make_check_speaks_chinese_under_the_variable():
    english, chinese = run_doctor(None), run_doctor("zh")
    assert "checks:" in english and "[OK  ] Python:" in english and "共" not in english
    assert "项检查：" in chinese and "checks:" not in chinese
    assert english.count("\n") == chinese.count("\n")  # the same lines, in another language
    wrong = run_doctor("fr")
    assert wrong.startswith(f"[FAIL] {ENV_VAR}: the environment variable {ENV_VAR} must be")
    assert "checks:" in wrong  # the report goes on, in English


def test_the_doctor_s_sentences_in_both_languages(tmp_path):
    pins = tmp_path / "requirements.txt"
    pins.write_text("torch==2.13.0\nnumpy>=2\n", encoding="utf-8")
    english = doctor.parse_pins(pins)[1]
    set_language("zh")
    chinese = doctor.parse_pins(pins)[1]
    assert english == ["requirements.txt line 2: 'numpy>=2' is not a pin 'name==version'; "
                       "write the exact tested version, as in the repository's file"]
    assert chinese == ["requirements.txt第2行：'numpy>=2'不是'name==version'形式的版本固定；"
                       "请照仓库里的文件写出测试过的确切版本"]
    assert str(doctor.examine_python()).startswith("[")
    assert doctor.examine_cjk_font().what == "中文字体"


def test_every_doctor_sentence_has_the_same_fields_in_both_languages():
    import string

    from course_utils.doctor_messages import TEXT

    for key, (english, chinese) in TEXT.items():
        fields = [{name for _, name, _, _ in string.Formatter().parse(t) if name}
                  for t in (english, chinese)]
        assert fields[0] == fields[1], key
        assert chinese != english or key == "Python", key


def test_the_data_files_errors_that_make_check_shows(tmp_path):
    from course_utils import data
    from course_utils.data_messages import FIXES_ZH

    fixes = (data.RESTORE_DATA, data.RESTORE_MODEL, data.REINSTALL_GPT2, data.REINSTALL_QWEN,
             data.REINSTALL_SMOLLM2, data.INSTALL_SMOLLM2)
    assert set(fixes) <= set(FIXES_ZH)  # a fix data.py adds needs its Chinese too
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("not a checksum line\n", encoding="utf-8")
    english = message(lambda: data._expected_sha256(sums))
    assert english == (f"{sums}: malformed line 'not a checksum line'; restore it with "
                       "`git checkout -- data/` or rebuild it with `make data`")
    set_language("zh")
    assert message(lambda: data._expected_sha256(sums)) == (
        f"{sums}：格式不对的行'not a checksum line'；用`git checkout -- data/`恢复它，"
        "或用`make data`重新生成")
    assert message(lambda: data._expected_sha256(tmp_path / "gone", fix=data.RESTORE_MODEL)) \
        .startswith(f"{tmp_path / 'gone'}不存在；用`git checkout -- data/reference_model`恢复它")
