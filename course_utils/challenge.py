"""The class challenge's scorer: bits per byte on the validation poems, checks, a leaderboard.

    python -m course_utils.challenge SUBMISSION_DIR [SUBMISSION_DIR ...]

scores each folder (the format is `course_utils.challenge_submission`'s) and the course's
baseline (instructors/challenge/baseline/), and prints the board, best first.

The score: `course_utils.metrics.text_loss` of the model on the validation text, tokenized by
the submission's own tokenizer (`encode_ordinary`), with the model's block_size and stride =
block_size // 2 for everyone; `metrics.bits_per_byte` turns it into bits per UTF-8 byte of the
text the scored tokens cover (every token but the first). Bits per byte do not depend on the
tokenizer, so teams may train their own.

What is refused (`Result.refused`, the reason): anything `challenge_submission` refuses (pickle
files, not safetensors, names or shapes not the config's GPT, a damaged tokenizer); a claim over
the budget (training_seconds > 600, threads > 2) or trained on other text (train_sha256); a
tokenizer that does not give the text back exactly (decode(encode(text)) != text: dropping
characters would score fewer bytes) or gives ids beyond the model's vocab.

What is flagged (`Result.flags`: on the board, for the instructor to look at):
- a claimed parameter count that is not the model's;
- a time claim below what the claimed steps take here, even granting a faster CPU
  (`estimated_seconds`, `TIME_MARGIN`): it catches a run several times over the budget, not
  one a little over (CPUs differ too much for that);
- guards against scoring on training data: the same model's bits per byte on an equal slice of
  the training text (poems spread over it, `training_slice`) is scored too, and validation
  bits per byte below it (`BITS_GAP`) is flagged: an honest model knows its training text at
  least as well as new text. A tokenizer whose bytes per token on the validation text exceed
  those on the training slice by more than `PACKING_GAP` is flagged: its merges were learnt
  from the validation text.
- the validation poems whose text is mostly in the training split are not scored
  (`held_out_text`): data/README.md says no poem is in both splits, and none is verbatim, but
  《点绛唇》汪藻 in val is 《点绛唇》苏过 in train with one character changed.

Left out: running a submission's own code (nothing is run: a submission is weights), and
retraining a submission to check its score (10 minutes each).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.challenge_submission import (BUDGET_SECONDS, BUDGET_THREADS, TRAIN_SHA256,
                                               Refused, check_folder, estimated_seconds,
                                               read_claim, read_config, read_model,
                                               read_tokenizer)
from course_utils.challenge_texts import course_texts, held_out_text, training_slice
from course_utils.language import say
from course_utils.validation import check_str

if TYPE_CHECKING:
    from course_utils.model import GPT
    from course_utils.tokenization import BPETokenizer

__all__ = ["Result", "score_submission", "score_all", "leaderboard", "BASELINE_DIR",
           "TIME_MARGIN", "BITS_GAP", "PACKING_GAP", "main"]

BASELINE_DIR = Path(__file__).resolve().parent.parent / "instructors" / "challenge" / "baseline"
# A time claim is flagged below estimated_seconds / TIME_MARGIN. Per core, the laptop and server
# CPUs a class brings differ by up to about 2x, and a lean training loop saves a little more.
TIME_MARGIN = 3.0
# Measured on the poems (scorer's slices), validation bits per byte / the training slice's:
# honest runs 1.009 untrained, 1.04-1.07 trained 1-4 minutes (a 2-layer GPT, 1 thread; also
# with the last tenth of train.txt held out), the starter's baseline 1.05; trained on val.txt
# alone 0.94, 0.85 after 0.5, 2 minutes; on train.txt + val.txt 1.003, 0.989, 0.987 after 1, 2,
# 4 minutes. Validation bytes per token / the slice's: 0.99 for a 1,024-token BPE trained on
# train.txt (0.97, 0.97 for 2,048, 4,096), 1.06 for one trained on val.txt (1.08, 1.13).
BITS_GAP = 0.0  # flag validation bits per byte below (1 - BITS_GAP) × the training slice's
PACKING_GAP = 0.03  # flag validation bytes per token above (1 + PACKING_GAP) × the slice's


@dataclass
class Result:
    """One submission's outcome: scored (bits_per_byte) or refused (the reason), with flags."""

    folder: str
    team: str  # the claim's, else the folder's name
    bits_per_byte: float | None = None  # on the held-out validation text; None if refused
    train_bits_per_byte: float | None = None  # on an equal slice of the training text
    refused: str | None = None
    flags: list[str] = field(default_factory=list)
    parameters: int | None = None  # counted in the model (the tied matrix once)
    claimed_seconds: float | None = None
    estimated_seconds: float | None = None  # the claimed steps here on 2 threads, at best
    num_tokens: int = 0  # of the validation text, by the submission's tokenizer
    num_bytes: int = 0  # scored: the validation text's UTF-8 bytes but the first token's
    dropped: list[str] = field(default_factory=list)  # titles of val poems also in training
    scoring_seconds: float = 0.0
    baseline: bool = False  # the course's own


def _bits(model: GPT, tokenizer: BPETokenizer, text: str, what: str,
          batch_size: int) -> tuple[float, int, int]:
    """(bits per byte, tokens, scored bytes) of `model` on `text`; Refused if the tokenizer
    does not give `text` back or gives ids beyond the model's vocab."""
    import torch

    from course_utils.metrics import bits_per_byte, text_loss

    try:
        ids = tokenizer.encode_ordinary(text)
        back = tokenizer.decode(ids)
    except ValueError as error:  # e.g. a vocab without some byte of the text
        raise Refused(say(f"the tokenizer cannot encode the {what} text: {error}",
                          f"分词器无法编码{what}文本：{error}")) from None
    if back != text:
        at = next((i for i, (a, b) in enumerate(zip(back, text)) if a != b), min(len(back),
                                                                                  len(text)))
        raise Refused(say(f"the tokenizer does not give the {what} text back: decode(encode(text))"
                          f" differs from character {at} on ({text[at:at + 12]!r}); it must be "
                          "lossless, or it could score fewer bytes",
                          f"分词器无法还原{what}文本：decode(encode(text))从第{at}个字符起不同"
                          f"（{text[at:at + 12]!r}）；分词必须无损，否则被计分的字节会变少"))
    vocab_size = model.config.vocab_size
    if len(ids) < 2 or max(ids) >= vocab_size:
        raise Refused(say(f"the tokenizer gives {len(ids)} tokens with ids up to "
                          f"{max(ids, default=0)}; scoring needs 2 or more, below the model's "
                          f"vocab_size={vocab_size}",
                          f"分词器给出{len(ids)}个词元，最大id为{max(ids, default=0)}；"
                          f"计分需要至少2个，且id小于模型的vocab_size={vocab_size}"))
    block_size = model.config.block_size
    try:
        loss = text_loss(model, torch.tensor(ids), block_size=block_size,
                         stride=max(block_size // 2, 1), batch_size=batch_size)
    except FloatingPointError as error:
        raise Refused(str(error)) from None
    num_bytes = len(text.encode("utf-8")) - len(tokenizer.decode_bytes(ids[:1]))
    return bits_per_byte(loss, len(ids) - 1, num_bytes), len(ids), num_bytes


def _score(result: Result, folder: Path, val_text: str, train_text: str, time_claim: bool,
           batch_size: int) -> None:
    claim = read_claim(check_folder(folder))
    result.team, result.claimed_seconds = claim.team, claim.training_seconds
    config = read_config(folder)
    if claim.training_seconds > BUDGET_SECONDS or claim.threads > BUDGET_THREADS:
        raise Refused(say(f"over the budget: {claim.training_seconds:g} s on {claim.threads} "
                          f"threads claimed, at most {BUDGET_SECONDS:g} s on {BUDGET_THREADS}",
                          f"超出预算：声明{claim.training_seconds:g}秒、{claim.threads}个线程，"
                          f"上限为{BUDGET_SECONDS:g}秒、{BUDGET_THREADS}个线程"))
    if claim.train_sha256 != TRAIN_SHA256:
        raise Refused(say("train_sha256 is not data/poetry_zh/train.txt's: the model must be "
                          "trained on the course's training split, and only on it",
                          "train_sha256与data/poetry_zh/train.txt不符：模型必须且只能用课程的"
                          "训练集训练"))
    if claim.block_size > config.block_size:
        raise Refused(say(f"claim.json's block_size={claim.block_size} exceeds the model's "
                          f"{config.block_size}", f"claim.json的block_size={claim.block_size}"
                          f"超过模型的{config.block_size}"))
    model, tokenizer = read_model(folder, config), read_tokenizer(folder)
    result.parameters = model.num_parameters()
    if claim.parameters != result.parameters:
        result.flags.append(say(f"claims {claim.parameters:,} parameters, the model has "
                                f"{result.parameters:,}", f"声明参数{claim.parameters:,}个，"
                                f"模型实有{result.parameters:,}个"))
    text, result.dropped = held_out_text(val_text, train_text)
    result.bits_per_byte, result.num_tokens, result.num_bytes = _bits(
        model, tokenizer, text, say("validation", "验证"), batch_size)
    own = training_slice(train_text, len(text.encode("utf-8")))
    result.train_bits_per_byte, train_tokens, train_bytes = _bits(
        model, tokenizer, own, say("training", "训练"), batch_size)
    val_bits, train_bits = result.bits_per_byte, result.train_bits_per_byte
    if val_bits < (1 - BITS_GAP) * train_bits:
        result.flags.append(say(
            f"{val_bits:.3f} bits per byte on validation, {train_bits:.3f} on training text: "
            "trained on the validation text?",
            f"验证文本{val_bits:.3f}比特/字节，训练文本{train_bits:.3f}：是否用验证文本训练过？"))
    val_packing, train_packing = result.num_bytes / result.num_tokens, train_bytes / train_tokens
    if val_packing > (1 + PACKING_GAP) * train_packing:
        result.flags.append(say(
            f"the tokenizer packs {val_packing:.2f} bytes per token of validation text, "
            f"{train_packing:.2f} of training text: merges learnt from the validation text?",
            f"分词器在验证文本上每词元{val_packing:.2f}字节，训练文本上{train_packing:.2f}："
            "合并规则是否学自验证文本？"))
    if time_claim:
        result.estimated_seconds = estimated_seconds(config, claim.steps, claim.batch_size,
                                                     claim.block_size)
        least = result.estimated_seconds / TIME_MARGIN
        if claim.training_seconds < least:
            result.flags.append(say(
                f"{claim.steps:,} steps in {claim.training_seconds:g} s is implausible: they take "
                f"{result.estimated_seconds:.0f} s here on {BUDGET_THREADS} threads, so "
                f"≥ {least:.0f} s even on a {TIME_MARGIN:g}x faster CPU",
                f"{claim.training_seconds:g}秒内{claim.steps:,}步不可信：本机{BUDGET_THREADS}个线程"
                f"需{result.estimated_seconds:.0f}秒，即使CPU快{TIME_MARGIN:g}倍也需≥{least:.0f}秒"))


def score_submission(folder: str | os.PathLike[str], *, val_text: str | None = None,
                     train_text: str | None = None, time_claim: bool = True,
                     batch_size: int = 16) -> Result:
    """Score one submission folder; return its Result: refused ones too, with the reason (it
    never raises for a submission, so one bad folder cannot stop a class's scoring).
    `val_text` and `train_text` default to the course's poetry_zh splits (tests pass short
    slices); time_claim=False skips timing training steps.

    >>> score_submission("no/such/folder", val_text="", train_text="").refused
    'no/such/folder is not a folder'
    """
    for name, value in (("val_text", val_text), ("train_text", train_text)):
        if value is not None:
            check_str(name, value)
    if val_text is None or train_text is None:
        default_val, default_train = course_texts()
        val_text = default_val if val_text is None else val_text
        train_text = default_train if train_text is None else train_text
    path = Path(os.fspath(folder))
    result = Result(folder=str(path), team=path.name)
    result.baseline = path.resolve() == BASELINE_DIR
    start = time.perf_counter()
    try:
        _score(result, path, val_text, train_text, time_claim, batch_size)
    except Refused as error:
        result.refused = str(error)
    except Exception as error:  # a case no check foresaw: report it, score the next folder
        result.refused = say(f"the scorer failed on it: {type(error).__name__}: {error}",
                             f"计分出错：{type(error).__name__}：{error}")
        result.bits_per_byte = result.train_bits_per_byte = None
    result.scoring_seconds = time.perf_counter() - start
    return result


def score_all(folders: list[str | os.PathLike[str]], *, baseline: bool = True,
              report: bool = False, **kwargs: object) -> list[Result]:
    """Score every folder, and the course's baseline first if `baseline` and it exists;
    report=True prints each outcome to stderr as it comes."""
    paths = [Path(os.fspath(f)) for f in folders]
    if baseline and BASELINE_DIR.is_dir() and all(p.resolve() != BASELINE_DIR for p in paths):
        paths.insert(0, BASELINE_DIR)
    results = []
    for path in paths:
        r = score_submission(path, **kwargs)  # type: ignore[arg-type]
        results.append(r)
        if report:
            score = r.refused or say(f"{r.bits_per_byte:.4f} bits per byte",
                                     f"{r.bits_per_byte:.4f}比特/字节")
            print(f"{r.folder}: {score} ({r.scoring_seconds:.1f} s)", file=sys.stderr)
    return results


def leaderboard(results: list[Result]) -> str:
    """Return the board as text: scored submissions by bits per byte (best first), each with
    its flags, then the refused ones with their reasons, and whether the baseline is on it.

    >>> print(leaderboard([Result("a", "A", bits_per_byte=2.5, train_bits_per_byte=2.4),
    ...                    Result("b", "B", refused="no")]))  # doctest: +NORMALIZE_WHITESPACE
    rank  team  bits/byte  train bits/byte  parameters  claimed s  estimated s
    1     A     2.5000     2.4000           -           -          -
    refused: B (b): no
    the course's baseline (instructors/challenge/baseline/) is not on the board
    """
    scored = sorted((r for r in results if r.refused is None),
                    key=lambda r: (r.bits_per_byte if r.bits_per_byte is not None else math.inf,
                                   r.team))
    head = [say("rank", "名次"), say("team", "队伍"), say("bits/byte", "比特/字节"),
            say("train bits/byte", "训练比特/字节"), say("parameters", "参数"),
            say("claimed s", "声明秒数"), say("estimated s", "估计秒数")]

    def number(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    rows = [head] + [[str(i), r.team + (" *" if r.baseline else "") + (" !" if r.flags else ""),
                      number(r.bits_per_byte, ".4f"), number(r.train_bits_per_byte, ".4f"),
                      number(r.parameters, ","), number(r.claimed_seconds, ".0f"),
                      number(r.estimated_seconds, ".0f")] for i, r in enumerate(scored, 1)]
    def width(cell: str) -> int:  # on screen: a Chinese character takes two columns
        return sum(1 + (unicodedata.east_asian_width(c) in "WF") for c in cell)

    widths = [max(width(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths)).rstrip()
             for row in rows]
    lines += [f"! {r.team}: {flag}" for r in scored for flag in r.flags]
    lines += [say(f"refused: {r.team} ({r.folder}): {r.refused}",
                  f"拒绝：{r.team}（{r.folder}）：{r.refused}")
              for r in results if r.refused is not None]
    if any(r.baseline for r in scored):
        lines.append(say("* the course's baseline", "* 课程的基线"))
    else:
        lines.append(say("the course's baseline (instructors/challenge/baseline/) is not on the "
                         "board", "课程的基线（instructors/challenge/baseline/）不在榜上"))
    dropped = next((r.dropped for r in scored if r.dropped), [])
    if dropped:
        lines.append(say(f"not scored: {len(dropped)} validation poem(s) also in the training "
                         f"split ({', '.join(dropped)})",
                         f"未计分：{len(dropped)}首验证诗词也在训练集中（{'、'.join(dropped)}）"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line: score the folders and print the board."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.challenge", description=say(
        "Score class-challenge submissions and print the leaderboard.",
        "为课堂挑战的提交计分并打印排行榜。"))
    parser.add_argument("folders", nargs="*", help=say("submission folders", "提交的文件夹"))
    parser.add_argument("--no-baseline", action="store_true",
                        help=say("leave out the course's baseline", "不加入课程的基线"))
    parser.add_argument("--no-timing", action="store_true",
                        help=say("do not time training steps", "不测训练步的耗时"))
    args = parser.parse_args(argv)
    print(leaderboard(score_all(args.folders, baseline=not args.no_baseline, report=True,
                                time_claim=not args.no_timing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
