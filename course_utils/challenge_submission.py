"""The class challenge's submission: a folder read safely, and its claims checked.

The challenge: the lowest bits per byte on the poems' validation text (data/poetry_zh/val.txt)
after at most 10 minutes of training on 2 CPU cores. A submission is a folder of four files:

- `model.safetensors`: the float32 weights of a `course_utils.model.GPT`, as
  `safetensors.torch.save_model(model, path)` writes them. Names are those of
  `GPT(config).state_dict()`; the tied pair `transformer.wte.weight` / `lm_head.weight` may be
  stored once under either name, or twice with equal values. Every shape must be GPT(config)'s.
- `config.json`: `{"model": dataclasses.asdict(model.config)}`: `vocab_size`, `block_size`,
  `n_layer`, `n_head`, `n_embd` required; `dropout`, `bias`, `layer_norm_epsilon` optional
  (GPTConfig's defaults). Other keys inside "model" are refused; other top-level keys (say,
  "train") are the team's notes, ignored.
- `bpe_tokenizer.json`: written by `course_utils.tokenization.BPETokenizer.save(folder)`.
- `claim.json`: {"team": str, "parameters": int, "training_seconds": float, "threads": int,
  "steps": int, "batch_size": int, "block_size": int, "train_sha256": str, "hardware": str}.
  training_seconds is the wall-clock time of the whole run (tokenizer training, tokenizing,
  model training); threads is torch.get_num_threads() during it; steps counts AdamW updates of
  batch_size sequences of block_size tokens; train_sha256 is the sha256 of the training text
  (data/poetry_zh/train.txt's: `TRAIN_SHA256`). Other keys are ignored.

Reading is safe: nothing from the folder is imported or run, and no pickle is read. A folder
holding a pickle-like file (.pt, .pth, .bin, .pkl, .pickle, .ckpt) is refused, and so is a
model file that is not safetensors, a symbolic link, or a file too large for a 10-minute model.
Names, shapes and dtypes are checked from the safetensors header before any tensor is read.
Every problem is a `Refused` (a ValueError) with the reason an instructor reads.

`training_step_seconds` times the course's training step (forward, backward, AdamW) of a
config, and `estimated_seconds` the claimed steps at best on 2 threads: what
`course_utils.challenge` compares a time claim with.
Left out: the scoring and the leaderboard (`course_utils.challenge`), and a limit on the time
the tokenizer's split pattern (a regex) may take.

>>> Claim(team="t", parameters=1, training_seconds=1.0, threads=2, steps=1, batch_size=1,
...       block_size=8, train_sha256=TRAIN_SHA256, hardware="cpu").threads
2
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_utils.language import say

if TYPE_CHECKING:
    from torch import Tensor

    from course_utils.model import GPT, GPTConfig
    from course_utils.tokenization import BPETokenizer

__all__ = ["Refused", "Claim", "MODEL_FILE", "CONFIG_FILE", "TOKENIZER_FILE", "CLAIM_FILE",
           "TRAIN_SHA256", "BUDGET_SECONDS", "BUDGET_THREADS", "PICKLE_SUFFIXES",
           "check_folder", "read_claim", "read_config", "read_model", "read_tokenizer",
           "training_step_seconds", "estimated_seconds"]

MODEL_FILE, CONFIG_FILE = "model.safetensors", "config.json"
TOKENIZER_FILE, CLAIM_FILE = "bpe_tokenizer.json", "claim.json"
# data/SHA256SUMS's entry for poetry_zh/train.txt (tests check that they agree)
TRAIN_SHA256 = "8bb1da7380927b13838dece96a1548824b65d407b88aac30a95cd3935fc592ea"
BUDGET_SECONDS, BUDGET_THREADS = 600.0, 2  # the challenge: 10 minutes on 2 CPU cores
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
# 2 CPU cores train far less than 100M float32 parameters (400 MB) in 10 minutes.
MAX_BYTES = {MODEL_FILE: 400 << 20, TOKENIZER_FILE: 64 << 20, CONFIG_FILE: 64 << 10,
             CLAIM_FILE: 64 << 10}
_TIED = ("transformer.wte.weight", "lm_head.weight")
_REQUIRED_CONFIG = ("vocab_size", "block_size", "n_layer", "n_head", "n_embd")


class Refused(ValueError):
    """A submission the scorer does not score; the message says why, and what to do."""


@dataclass(frozen=True)
class Claim:
    """What a team says about its run (claim.json), types checked; the values are checked
    against the model and the budget by `course_utils.challenge`."""

    team: str  # the name on the board
    parameters: int  # model.num_parameters(): the tied matrix once
    training_seconds: float  # wall-clock time of the whole run, tokenizer included
    threads: int  # torch.get_num_threads() while training
    steps: int  # optimizer (AdamW) updates
    batch_size: int  # sequences per update
    block_size: int  # tokens per training sequence
    train_sha256: str  # sha256 of the training text's UTF-8 bytes
    hardware: str  # free text: the CPU it ran on

    def __post_init__(self) -> None:
        for field in fields(self):
            value, kind = getattr(self, field.name), field.type
            ok = (isinstance(value, str) if kind == "str" else
                  isinstance(value, int) and not isinstance(value, bool) and value >= 0
                  if kind == "int" else
                  isinstance(value, (int, float)) and not isinstance(value, bool)
                  and 0 <= value < float("inf"))
            positive = field.name in ("threads", "steps", "batch_size", "block_size")
            if field.name == "team":
                ok = ok and 0 < len(value) <= 40 and value.isprintable()
            if not ok or (positive and not value):
                need, zh = {"str": ("a string", "字符串"), "int": ("an integer", "整数"),
                            "float": ("a number", "数")}[kind]
                what, zh_what = (("of 1-40 printable characters", "1到40个可打印字符的")
                                 if field.name == "team" else ("above 0", "大于0的") if positive
                                 else ("", "") if kind == "str" else ("≥ 0", "不小于0的"))
                need = f"{need} {what}".rstrip()
                raise Refused(say(f"{CLAIM_FILE}: {field.name} must be {need}, got {value!r}",
                                  f"{CLAIM_FILE}：{field.name}应为{zh_what}{zh}，"
                                  f"实际为{value!r}"))


def _file(folder: Path, name: str) -> Path:
    """folder/name if it is a regular file (not a link) within its size limit; else Refused."""
    path = folder / name
    try:
        info = os.lstat(path)
    except OSError:
        raise Refused(say(f"{name} is missing; a submission holds {MODEL_FILE}, {CONFIG_FILE}, "
                          f"{TOKENIZER_FILE} and {CLAIM_FILE}",
                          f"缺少{name}；提交的文件夹应包含{MODEL_FILE}、{CONFIG_FILE}、"
                          f"{TOKENIZER_FILE}和{CLAIM_FILE}")) from None
    if not stat.S_ISREG(info.st_mode):
        raise Refused(say(f"{name} is not a plain file (a link, a folder?); copy the file itself",
                          f"{name}不是普通文件（是链接或文件夹？）；请放入文件本身"))
    if info.st_size > MAX_BYTES[name]:
        raise Refused(say(f"{name} has {info.st_size:,} bytes, over the limit of "
                          f"{MAX_BYTES[name]:,}", f"{name}有{info.st_size:,}字节，"
                          f"超过上限{MAX_BYTES[name]:,}"))
    return path


def check_folder(folder: str | os.PathLike[str]) -> Path:
    """Return the submission folder as a Path; Refused if it is not a folder or holds a pickle-
    like file anywhere inside it (loading one could run code)."""
    path = Path(folder)
    if not path.is_dir():
        raise Refused(say(f"{path} is not a folder", f"{path}不是文件夹"))
    for root, _, names in os.walk(path):  # links to folders are not followed
        pickled = sorted(n for n in names if n.lower().endswith(PICKLE_SUFFIXES))
        if pickled:
            raise Refused(say(
                f"{pickled[0]} may be a pickle, and loading a pickle can run code: remove it; "
                f"weights go in {MODEL_FILE} (safetensors.torch.save_model)",
                f"{pickled[0]}可能是pickle文件，加载pickle可能执行代码：请删除它；"
                f"权重应保存为{MODEL_FILE}（safetensors.torch.save_model）"))
    return path


def _json(folder: Path, name: str) -> dict[str, Any]:
    try:
        value = json.loads(_file(folder, name).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused(say(f"{name} is not JSON ({error})", f"{name}不是JSON（{error}）")) from None
    if not isinstance(value, dict):
        raise Refused(say(f"{name} must hold a JSON object {{...}}",
                          f"{name}应为JSON对象{{...}}"))
    return value


def read_claim(folder: Path) -> Claim:
    """Return claim.json's claims, with every field present and of its type; else Refused."""
    claim = _json(folder, CLAIM_FILE)
    missing = [f.name for f in fields(Claim) if f.name not in claim]
    if missing:
        raise Refused(say(f"{CLAIM_FILE} lacks {', '.join(missing)}",
                          f"{CLAIM_FILE}缺少{'、'.join(missing)}"))
    return Claim(**{f.name: claim[f.name] for f in fields(Claim)})


def read_config(folder: Path) -> GPTConfig:
    """Return config.json's "model" as a GPTConfig (checked by GPTConfig); else Refused."""
    from course_utils.model import GPTConfig

    model = _json(folder, CONFIG_FILE).get("model")
    known = {f.name for f in fields(GPTConfig)}
    if not isinstance(model, dict) or not set(_REQUIRED_CONFIG) <= set(model) <= known:
        raise Refused(say(
            f'{CONFIG_FILE} must be {{"model": {{...}}}} with {", ".join(_REQUIRED_CONFIG)} and '
            f"at most {', '.join(sorted(known - set(_REQUIRED_CONFIG)))}: "
            "dataclasses.asdict(model.config)",
            f'{CONFIG_FILE}应为{{"model": {{...}}}}，含{"、".join(_REQUIRED_CONFIG)}，'
            f"可另含{'、'.join(sorted(known - set(_REQUIRED_CONFIG)))}："
            "即dataclasses.asdict(model.config)"))
    try:
        return GPTConfig(**model)
    except (TypeError, ValueError) as error:
        raise Refused(f"{CONFIG_FILE}: {error}") from None


def _header(path: Path) -> dict[str, Any]:
    """The safetensors header of `path`: {name: {"dtype", "shape"}}, read by safetensors without
    reading any tensor; Refused if `path` is not a safetensors file (torch.save's zip or pickle,
    or anything else)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            return {name: {"dtype": f.get_slice(name).get_dtype(),
                           "shape": f.get_slice(name).get_shape()} for name in f.keys()}
    except Exception:  # safetensors' own error type: not a safetensors file, or a damaged one
        pass
    with open(path, "rb") as f:
        start = f.read(8)
    kind = (say(" (it is torch.save's zip)", "（而是torch.save的zip文件）")
            if start[:2] == b"PK" else say(" (it is a pickle)", "（而是pickle文件）")
            if start[:1] == b"\x80" else "")
    raise Refused(say(f"{MODEL_FILE} is not a safetensors file{kind}; write it with "
                      f"safetensors.torch.save_model(model, path)",
                      f"{MODEL_FILE}不是safetensors文件{kind}；请用"
                      f"safetensors.torch.save_model(model, path)保存"))


def read_model(folder: Path, config: GPTConfig) -> GPT:
    """Return a GPT(config) holding the submission's weights, after checking names, shapes and
    dtypes in the file's header against GPT(config)'s (built on "meta": no memory); Refused
    when they differ, or when the tied pair is stored twice with different values."""
    import torch
    from safetensors.torch import load_file

    from course_utils.model import GPT

    path = _file(folder, MODEL_FILE)
    header = _header(path)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in GPT(config).state_dict().items()}
    allowed = [set(expected), set(expected) - {_TIED[0]}, set(expected) - {_TIED[1]}]
    if set(header) not in allowed:
        extra, missing = sorted(set(header) - set(expected)), sorted(set(expected) - set(header))
        missing = [m for m in missing if m not in _TIED] or missing
        raise Refused(say(f"{MODEL_FILE} does not hold the tensors of GPT({CONFIG_FILE}): "
                          f"missing {missing[:3]}, unexpected {extra[:3]}",
                          f"{MODEL_FILE}中的张量与GPT({CONFIG_FILE})不符：缺少{missing[:3]}，"
                          f"多出{extra[:3]}"))
    for name, entry in sorted(header.items()):
        dtype, shape = entry["dtype"], tuple(entry["shape"])
        if shape != expected[name] or dtype != "F32":
            raise Refused(say(f"{MODEL_FILE}: {name} is {dtype} {shape}; "
                              f"GPT({CONFIG_FILE}) needs F32 {expected[name]}",
                              f"{MODEL_FILE}：{name}为{dtype} {shape}；"
                              f"GPT({CONFIG_FILE})需要F32 {expected[name]}"))
    try:
        weights: dict[str, Tensor] = load_file(path)
    except Exception as error:  # safetensors' own error type: a damaged file
        raise Refused(say(f"{MODEL_FILE} cannot be read ({error})",
                          f"无法读取{MODEL_FILE}（{error}）")) from None
    if all(name in weights for name in _TIED) and not torch.equal(*(weights[n] for n in _TIED)):
        raise Refused(say(f"{MODEL_FILE}: {_TIED[0]} and {_TIED[1]} are tied in GPT, but differ",
                          f"{MODEL_FILE}：{_TIED[0]}与{_TIED[1]}在GPT中共享，但取值不同"))
    for a, b in (_TIED, _TIED[::-1]):
        weights.setdefault(a, weights.get(b))
    model = GPT(config)
    model.load_state_dict(weights, strict=True)
    return model.eval()


def read_tokenizer(folder: Path) -> BPETokenizer:
    """Return the submission's BPETokenizer (a JSON file with a checksum); else Refused."""
    from course_utils.tokenization import BPETokenizer

    try:
        return BPETokenizer.load(_file(folder, TOKENIZER_FILE))
    except (OSError, ValueError, TypeError) as error:
        raise Refused(say(f"{TOKENIZER_FILE}: {error}", f"{TOKENIZER_FILE}：{error}")) from None


def training_step_seconds(config: GPTConfig, batch_size: int, block_size: int, *,
                          threads: int = BUDGET_THREADS, repeats: int = 3,
                          max_seconds: float = 30.0, seed: int = 0) -> float:
    """Return the fastest of `repeats` timed training steps (after one untimed warm-up) of
    GPT(config) on random (batch_size, block_size) token ids with `threads` threads: forward,
    backward, gradient clipping and AdamW, as `course_utils.training` trains. The fastest is
    the one least slowed by other work on the machine. Stops early after `max_seconds`.

    >>> from course_utils.model import GPTConfig
    >>> config = GPTConfig(vocab_size=50, block_size=16, n_layer=1, n_head=2, n_embd=16)
    >>> 0 < training_step_seconds(config, batch_size=2, block_size=16, repeats=1) < 10
    True
    """
    import torch

    from course_utils.model import GPT
    from course_utils.optim import train_step
    from course_utils.train_config import TrainConfig
    from course_utils.training import make_optimizer

    model = GPT(config, seed=seed).train()
    optimizer = make_optimizer(model, TrainConfig())
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(config.vocab_size, (batch_size, block_size + 1), generator=generator)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    times: list[float] = []
    try:
        for _ in range(repeats + 1):
            start = time.perf_counter()
            train_step(model, optimizer, ids[:, :-1], ids[:, 1:], lr=1e-4, grad_clip=1.0)
            times.append(time.perf_counter() - start)
            if sum(times) > max_seconds:
                break
    finally:
        torch.set_num_threads(before)
    return min(times[1:] or times)


def estimated_seconds(config: GPTConfig, steps: int, batch_size: int, block_size: int) -> float:
    """Return the seconds `steps` training steps of GPT(config) take on this machine with
    BUDGET_THREADS threads, at best: one step timed on ONE thread, divided by BUDGET_THREADS
    (two threads are at most twice as fast as one). One thread, because it is what a busy
    machine slows least: on the course's shared 2-core machine, with other work running, a step
    on 2 threads took 4-9x longer than on 1 (1.5-3.5 s against 0.33-0.46 s).

    >>> from course_utils.model import GPTConfig
    >>> config = GPTConfig(vocab_size=50, block_size=16, n_layer=1, n_head=2, n_embd=16)
    >>> 0 < estimated_seconds(config, steps=100, batch_size=2, block_size=16) < 1000
    True
    """
    step = training_step_seconds(config, batch_size, block_size, threads=1)
    return steps * step / BUDGET_THREADS
