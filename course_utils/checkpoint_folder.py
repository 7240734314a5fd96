"""Which folders a checkpoint may be saved in, and how leftovers of interrupted saves go.

A checkpoint folder holds only checkpoint files (`course_utils.checkpoint` lists them): a save
refuses a regular file or a folder of other files, so it never replaces what is not its own, and
`check_checkpoint_folder` says so before a long run starts rather than at its first save.
`tidy` removes what killed saves left. Left out: locking against several saving processes.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

from course_utils import files
from course_utils.validation import check_path, short_repr

__all__ = ["MANIFEST", "check_checkpoint_folder", "check_folder", "tidy", "TENSOR_FILE",
           "FORMAT_1"]

MANIFEST = "checkpoint.json"
TENSOR_FILE = re.compile(r"(model|optimizer|snapshot)-[0-9a-f]{12}\.safetensors")
FORMAT_1 = ("model.safetensors", "optimizer.safetensors", "trainer_state.json")


def _is_ours(name: str) -> bool:
    """A name a checkpoint folder may hold: ours, the earlier format's, or a partial file."""
    return (name == MANIFEST or name in FORMAT_1 or bool(TENSOR_FILE.fullmatch(name))
            or (name.startswith(".") and files.PARTIAL in name))


def check_folder(directory: object) -> Path:
    """`directory` as an absolute Path, if it is new, empty or a checkpoint folder."""
    path = Path(os.path.abspath(check_path("directory", directory)))
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{path} is a file, not a checkpoint folder; "
                                 f"saving would replace it: choose another path")
    foreign = sorted(p.name for p in path.iterdir() if not _is_ours(p.name)) \
        if path.is_dir() else []
    if foreign:
        raise FileExistsError(errno.EEXIST, f"{path} holds files that are not part of a "
                              f"checkpoint ({short_repr(foreign, 120)}); choose a new or empty "
                              f"folder for checkpoints")
    return path


def check_checkpoint_folder(directory: str | os.PathLike[str]) -> Path:
    """Return `directory` as an absolute Path once it is sure a checkpoint can be saved there.

    It must be a new folder, an empty one or a checkpoint folder (a regular file, or a folder
    holding other files, is refused: a save must never replace something that is not a
    checkpoint), and writable: the folder is created and a file written and removed, so a long
    run fails before its first step rather than at its first save.
    """
    return files.check_writable_folder(check_folder(directory), what="checkpoint folder")


def tidy(folder: Path, manifest: dict[str, Any]) -> None:
    """Remove what interrupted saves left: partial files of dead processes, and tensor files
    (or files of format 1) that the manifest does not refer to. While another process saves
    here (its partial files remain), its new tensor files are not touched."""
    files.tidy_partial_files(folder)
    keep = {MANIFEST} | {entry["name"] for entry in manifest["files"].values()}
    names = [p.name for p in folder.iterdir()]
    if any(name.startswith(".") and files.PARTIAL in name for name in names):
        return  # a save is in progress
    for name in names:
        if name not in keep and (name in FORMAT_1 or TENSOR_FILE.fullmatch(name)):
            try:
                (folder / name).unlink()
            except OSError:  # gone already, or a read-only folder: loading still works
                pass
