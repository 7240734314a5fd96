"""Checkpoints that survive anything: a model, its optimizer and its random generators in a folder.

    model-<sha12>.safetensors       the parameters (a tied matrix once)
    optimizer-<sha12>.safetensors   the optimizer's per-parameter tensors (AdamW's moments)
    snapshot-<sha12>.safetensors    optional: more of the model's tensors (e.g. its best ones)
    checkpoint.json                 the manifest: everything else, and what the files must be

The manifest holds the format version, its own content's sha256, the caller's `state` (for a
training run: step, settings, history), the model's class, config and tensor shapes, the
optimizer's settings, the generators' states, and each tensor file's name and sha256.

Why a kill at any instant leaves the complete old or the complete new checkpoint: a tensor file
is named after its contents, so a new one never overwrites a file the current manifest needs;
every file is written with `files.write_atomically`; the manifest comes last, and its rename is
the moment the new checkpoint replaces the old. Files no manifest refers to (new ones before
that moment, old ones after it) are removed right after, or by the next save or load.

Loading checks every sha256 (the manifest's too), the model's class, config and shapes, and
the optimizer's, before it changes anything: altered bytes or another model are a clear
ValueError. Which folders may hold a checkpoint, and the tidying, are
`course_utils.checkpoint_folder`'s. Left out: sharded files, saves from several processes at
once, and what a training run stores (`course_utils.training`).
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors.torch import load, save
from torch import Tensor, nn

from course_utils import files
from course_utils.checkpoint_folder import (FORMAT_1, MANIFEST, TENSOR_FILE,
                                             check_checkpoint_folder, check_folder, tidy)
from course_utils.language import say
from course_utils.optim import check_optimizer, optimizer_state, optimizer_tensors
from course_utils.validation import check_path, check_tensor, check_type, short_repr

__all__ = ["write_checkpoint", "read_checkpoint", "check_checkpoint_folder", "MANIFEST",
           "FORMAT_VERSION"]

# 2 had no sha256 of the manifest (refused: it cannot be verified); 1 was a folder of fixed
# names swapped by two renames (not kill-safe)
FORMAT_VERSION = 3
_T = TypeVar("_T")


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        return False


def _digest(manifest: dict[str, Any]) -> str:
    """The sha256 of the manifest's content (all but its own "sha256"), written canonically."""
    body = {key: value for key, value in manifest.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _model_tensors(model: nn.Module) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Return ({name: tensor}, {tied name: name it shares with}): a shared tensor once."""
    tensors: dict[str, Tensor] = {}
    tied: dict[str, str] = {}
    first: dict[int, str] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        if tensor.is_meta:
            raise ValueError(f"model's {name} is on the meta device (a shape without values): "
                             f"there is nothing to save; build the model on a real device")
        if id(tensor) in first:  # e.g. GPT's lm_head.weight is transformer.wte.weight
            tied[name] = first[id(tensor)]
        else:
            first[id(tensor)] = name
            tensors[name] = tensor.detach().cpu().contiguous()
    return tensors, tied


def _describe(model: nn.Module) -> dict[str, Any]:
    """The model's class, config (if it is a dataclass) and the dtype and shape of each tensor."""
    config = getattr(model, "config", None)
    config = (json.loads(json.dumps(dataclasses.asdict(config), default=str))
              if dataclasses.is_dataclass(config) else None)
    shapes = {name: f"{str(t.dtype).removeprefix('torch.')} {list(t.shape)}"
              for name, t in model.state_dict().items()}
    return {"class": type(model).__name__, "config": config, "tensors": shapes}


def write_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                     optimizer: torch.optim.Optimizer, generators: dict[str, torch.Generator],
                     state: dict[str, Any], snapshot: dict[str, Tensor] | None = None) -> Path:
    """Save model, optimizer, generators and `state` into `directory`; return it. `state` must
    be JSON that reads back equal: no tuples, non-str keys, paths, NaN (TypeError). `snapshot`:
    tensors of the model's names and shapes to keep beside it (a training run's best ones).

    At every instant the folder holds the complete previous checkpoint or the complete new one.
    Disk full, a read-only or foreign folder: an OSError naming the path, the old one kept.
    Example: see `read_checkpoint`.
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_optimizer(model, optimizer)
    _check_generators(check_type("generators", generators, dict, "a dict {name: Generator}"))
    try:  # what a JSON trip would change (or cannot write) is refused, not changed on the way
        plain = json.loads(json.dumps(check_type("state", state, dict, "a dict"),
                                      allow_nan=False)) == state
    except (TypeError, ValueError, RecursionError):
        plain = False
    if not plain:  # e.g. a tuple, a key 1, a Path, a NumPy int, NaN, a dict that holds itself
        raise TypeError(f"state must hold plain JSON values that read back equal (dicts with str "
                        f"keys, lists, str, finite numbers, bools, None), got "
                        f"{short_repr(state, 200)}; convert tuples to lists, keys and paths to str")
    folder = check_folder(directory)  # before the work of serialising: a clear error first
    tensors, tied = _model_tensors(model)
    manifest = {
        "format_version": FORMAT_VERSION, "sha256": "", "state": state,
        "model": {**_describe(model), "tied": tied},
        "optimizer": {"class": type(optimizer).__name__,
                      "param_groups": optimizer.state_dict()["param_groups"]},
        "generators": {name: base64.b64encode(g.get_state().numpy().tobytes()).decode()
                       for name, g in generators.items()},
        "files": {}}
    blobs = {"model": save(tensors), "optimizer": save(optimizer_tensors(optimizer))}
    if snapshot is not None:
        shapes = {name: t.shape for name, t in model.state_dict().items()}
        for name, t in check_type("snapshot", snapshot, dict, "a dict {name: tensor}").items():
            if shapes.get(name) != check_tensor(f"snapshot[{name!r}]", t).shape:
                raise ValueError(f"snapshot[{name!r}] is not one of the model's tensors "
                                 f"(shape {list(t.shape)}); give the model's names and shapes")
        blobs["snapshot"] = save({n: t.detach().cpu().clone() for n, t in snapshot.items()})
    for kind, blob in blobs.items():
        digest = hashlib.sha256(blob).hexdigest()  # the name says what the file must contain
        manifest["files"][kind] = {"name": f"{kind}-{digest[:12]}.safetensors", "sha256": digest}
    try:
        manifest["sha256"] = _digest(manifest)
        text = json.dumps(manifest, indent=1)
    except (TypeError, ValueError) as error:
        raise TypeError(f"optimizer's settings must be plain JSON values: {error}") from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        before = {p.name for p in folder.iterdir()}
        # A marker that this process saves here: a load meanwhile leaves our new files alone.
        marker = files.partial_path(folder / "save")
        marker.touch(exist_ok=False)
    except OSError as error:
        raise files.as_os_error(error, folder) from error
    try:
        for kind, blob in blobs.items():
            files.write_atomically(folder / manifest["files"][kind]["name"], blob)
        files.write_atomically(folder / MANIFEST, text)  # the commit point
    except BaseException:
        if not _holds(folder / MANIFEST, text):  # not committed: the new files are litter
            for entry in manifest["files"].values():
                if entry["name"] not in before:
                    (folder / entry["name"]).unlink(missing_ok=True)
        raise
    finally:
        marker.unlink(missing_ok=True)
    tidy(folder, manifest)
    return folder


def _check_generators(generators: dict[Any, Any]) -> dict[str, torch.Generator]:
    for name, generator in generators.items():
        check_type("a name in generators", name, str, "a str", fix="it is the name to load by")
        check_type(f"generators[{name!r}]", generator, torch.Generator, "a torch.Generator")
    return generators


def _fail(folder: Path, problem: str, fix: str | None = None) -> ValueError:
    """'the checkpoint in <folder> <problem>; <fix>', in the course's language."""
    fix = fix or say("restore it, or train without resume=True to start afresh",
                     "请恢复它，或者去掉resume=True从头训练")
    return ValueError(say(f"the checkpoint in {folder} {problem}; {fix}",
                          f"{folder}中的检查点{problem}；{fix}"))


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"no checkpoint folder {folder}; train with "
                                f"checkpoint_dir set first, or without resume=True")
    if not path.is_file():
        if (folder / FORMAT_1[2]).is_file():
            raise _fail(folder, say(f"is in format 1 ({FORMAT_1[2]}), which this version of the "
                                    f"course no longer reads (saving there replaces it)",
                                    f"是格式1（{FORMAT_1[2]}），这一版课程不再读取它（在那里保存会替换它）"))
        raise FileNotFoundError(errno.ENOENT, f"{folder} holds no checkpoint ({MANIFEST} is "
                                f"missing); train without resume=True to start afresh")
    try:
        manifest = json.loads(path.read_bytes())
        if (version := manifest["format_version"]) not in (2, FORMAT_VERSION):
            raise ValueError(f"format_version {version!r} is not {FORMAT_VERSION}")
        if not {"model", "optimizer"} <= set(manifest["files"]):
            raise ValueError("the model or the optimizer file is missing")
        for kind, entry in manifest["files"].items():
            if not (TENSOR_FILE.fullmatch(entry["name"]) and len(entry["sha256"]) == 64
                    and entry["name"].startswith(f"{kind}-")):
                raise ValueError(f"bad entry for the {kind} file")
        check_type("state", manifest["state"], dict, "a dict")
        for data in check_type("generators", manifest["generators"], dict, "a dict").values():
            base64.b64decode(data, validate=True)
        missing = {"class", "config", "tensors", "tied"} - set(manifest["model"])
        groups = manifest["optimizer"]["param_groups"]
        if missing or not all(isinstance(group["params"], list) for group in groups):
            raise ValueError(f"the model or optimizer entry is incomplete {sorted(missing)}")
    except (ValueError, KeyError, TypeError, RecursionError) as error:  # binascii.Error too
        raise _fail(folder, say(f"has a damaged {MANIFEST} ({short_repr(error, 160)})",
                                f"的{MANIFEST}已损坏（{short_repr(error, 160)}）")) from None
    if version == 2:
        raise _fail(folder, say(f"is in format 2, which has no sha256 of {MANIFEST}, so it cannot "
                                f"be verified (saving there replaces it)", f"是格式2，没有{MANIFEST}"
                                "的sha256，因而无法校验（在那里保存会替换它）"))
    if manifest.get("sha256") != _digest(manifest):
        raise _fail(folder, say(f"was altered or damaged: {MANIFEST} does not match its sha256",
                                f"被改动或已损坏：{MANIFEST}与它记录的sha256不符"))
    return manifest


def _read_tensors(folder: Path, entry: dict[str, str]) -> dict[str, Tensor]:
    """Load a tensor file after checking its sha256 against the manifest's."""
    path = folder / entry["name"]
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"checkpoint file {path} is missing; restore it, "
                                f"or train without resume=True to start afresh") from None
    except OSError as error:
        raise files.as_os_error(error, path, action="read") from error
    actual = hashlib.sha256(blob).hexdigest()
    if actual != entry["sha256"]:
        raise _fail(folder, say(f"was altered or damaged: {entry['name']} has sha256 "
                                f"{actual[:16]}…, the manifest recorded {entry['sha256'][:16]}…",
                                f"被改动或已损坏：{entry['name']}的sha256是{actual[:16]}…，"
                                f"清单记录的是{entry['sha256'][:16]}…"))
    return load(blob)


def _check_model(folder: Path, saved: dict[str, Any], model: nn.Module) -> None:
    """Refuse a checkpoint of another model: another class, config or tensor shapes."""
    here = _describe(model)
    if saved["class"] != here["class"]:
        raise _fail(folder, say(f"is of a {saved['class']}, not a {here['class']}",
                                f"属于{saved['class']}，不是{here['class']}"),
                    say(f"load it into a {saved['class']}", f"请把它载入{saved['class']}"))
    if saved["config"] != here["config"]:
        old, new = saved["config"] or {}, here["config"] or {}
        model = say("model: ", "模型：")
        diff = [f"{k}={old.get(k)!r} ({model}{new.get(k)!r})" for k in sorted({*old, *new})
                if old.get(k) != new.get(k)]
        raise _fail(folder, say(f"is of a model with another config: {', '.join(diff)[:300]}",
                                f"属于另一种配置的模型：{', '.join(diff)[:300]}"),
                    say("build the model with the checkpoint's config", "请按检查点的配置构建模型"))
    if saved["tensors"] != here["tensors"]:
        old, new = saved["tensors"], here["tensors"]
        model = say("model: ", "模型：")
        diff = [f"{k}: {old.get(k, 'absent')} ({model}{new.get(k, 'absent')})"
                for k in sorted({*old, *new}) if old.get(k) != new.get(k)]
        raise _fail(folder, say(f"is of a model with other tensors: {'; '.join(diff)[:300]}",
                                f"属于张量不同的模型：{'; '.join(diff)[:300]}"),
                    say("load it into a model of the same shapes", "请把它载入形状相同的模型"))


def read_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    generators: dict[str, torch.Generator] | None = None,
                    parse_state: Callable[[dict[str, Any]], _T] = dict,
                    snapshot: dict[str, Tensor] | None = None) -> _T:
    """Load a checkpoint into model (and optimizer, generators); return parse_state(state).
    A `snapshot` dict is emptied and filled with the saved snapshot's tensors, if there is one.

    Everything is checked before anything changes: the manifest, parse_state (which raises
    ValueError if the state does not fit), the model's class, config and shapes, the optimizer's
    class and parameter groups, and each file's sha256. A failure is a ValueError (a missing
    file: FileNotFoundError) naming the folder and what is wrong; model, optimizer and
    generators are then untouched.

    >>> import tempfile, torch
    >>> model, other = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_checkpoint(folder, model, optimizer, {}, {"step": 7})
    ...     state = read_checkpoint(folder, other)
    >>> state, torch.equal(other.weight, model.weight)
    ({'step': 7}, True)
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if optimizer is not None:
        check_optimizer(model, optimizer)
    generators = _check_generators(check_type("generators", {} if generators is None
                                              else generators, dict, "a dict or None"))
    folder = Path(os.path.abspath(check_path("directory", directory)))
    manifest = _read_manifest(folder)
    try:
        result = parse_state(manifest["state"])
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"the checkpoint in {folder} does not fit: {short_repr(str(error), 300)}"
                         f"; train without resume=True to start afresh") from None
    _check_model(folder, manifest["model"], model)
    saved_states = {}
    for name, generator in generators.items():
        saved_states[name] = base64.b64decode(manifest["generators"].get(name, ""))
        if len(saved_states[name]) != generator.get_state().numel():
            raise _fail(folder, say(f"has no state for generator {name!r} of this kind",
                                    f"没有这种生成器{name!r}的状态"))
    tensors = _read_tensors(folder, manifest["files"]["model"])
    moments = _read_tensors(folder, manifest["files"]["optimizer"]) if optimizer else {}
    saved = manifest["files"].get("snapshot")
    kept = _read_tensors(folder, saved) if saved and snapshot is not None else {}
    try:
        tensors.update({alias: tensors[name] for alias, name in manifest["model"]["tied"].items()})
        state = optimizer and optimizer_state(optimizer, manifest["optimizer"], moments)
    except (KeyError, ValueError) as error:
        raise _fail(folder, say(f"does not fit: {str(error)[:240]}",
                                f"对不上：{str(error)[:240]}"),
                    say("load it into the model and optimizer it was saved from",
                        "请把它载入保存它的模型和优化器")) from None

    # All checked: now change the model, the optimizer and the generators.
    model.load_state_dict(tensors)
    if snapshot is not None:
        snapshot.clear()
        snapshot.update(kept)
    if optimizer is not None:
        optimizer.load_state_dict(state)
    for name, data in saved_states.items():
        generators[name].set_state(torch.frombuffer(bytearray(data), dtype=torch.uint8))
    tidy(folder, manifest)
    return result
