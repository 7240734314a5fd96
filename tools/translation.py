"""Keep the Chinese edition (notebooks/zh/) in step with the English notebooks it translates.

Every zh notebook has the same cells, in the same order, as its English twin. Each zh cell
records in its metadata the hash of the English cell it translates (`metadata.translation.en`,
the first 16 hex digits of the SHA-256 of the English cell's type and source). Three rules,
checked by tests/test_translation.py and by `status` below:

1. Same cells: a cell added, removed or moved in one edition and not the other is named.
2. Not stale: a zh cell whose recorded hash is not its English cell's current hash is named, so
   an edit to an English cell fails until its translation is updated (and re-stamped).
3. Same code: a zh code cell may differ from its English cell only in comments, in string
   literals (printed text, plot labels) and in the `language=` argument of `setup_notebook`.
   Both cells are parsed; comments are dropped, every str literal is blanked (an f-string keeps
   its {expressions} and format specs, in any order) and the set-up call loses its language
   argument; the two trees must then be equal.

Commands (run from the repository root with the course's Python):

    python tools/translation.py status                 # every problem, both editions
    python tools/translation.py new notebooks/04_sgd_training.ipynb
        # start a translation: copy the English notebook to notebooks/zh/, cells stamped
    python tools/translation.py stamp notebooks/zh/04_sgd_training.ipynb 12 13
        # after updating zh cells 12 and 13: record their English cells' current hashes
    python tools/translation.py stamp notebooks/zh/04_sgd_training.ipynb --all
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EN_DIR = REPO / "notebooks"
ZH_DIR = EN_DIR / "zh"
KEY = "translation"  # zh cell metadata: {"translation": {"en": "<hash of the English cell>"}}
SETUP_CALL = "setup_notebook"
LANGUAGE_ARG = "language"


def english_pairs() -> list[tuple[Path, Path]]:
    """(English notebook, its zh path) for every lesson and solutions notebook."""
    english = sorted(EN_DIR.glob("[0-9][0-9]_*.ipynb"))
    english += sorted((EN_DIR / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return [(en, ZH_DIR / en.relative_to(EN_DIR)) for en in english]


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def cell_hash(cell: dict) -> str:
    """The hash a zh cell records for the English `cell`: its type and its source."""
    data = f"{cell['cell_type']}\n{source(cell)}".encode()
    return hashlib.sha256(data).hexdigest()[:16]


def recorded_hash(cell: dict) -> str | None:
    return cell.get("metadata", {}).get(KEY, {}).get("en")


class _Normalise(ast.NodeTransformer):
    """Blank str literals, keep f-string expressions, drop the set-up call's language argument."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        parts = [self._formatted(value) for value in node.values
                 if isinstance(value, ast.FormattedValue)]
        parts.sort(key=ast.dump)  # a translation may reorder the {fields} of a sentence
        return ast.JoinedStr(values=parts)

    def _formatted(self, node: ast.FormattedValue) -> ast.FormattedValue:
        # The expression is code; the format spec (":.2f") is part of the output's meaning.
        return ast.FormattedValue(value=self.visit(node.value), conversion=node.conversion,
                                  format_spec=node.format_spec)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name == SETUP_CALL:
            node.keywords = [k for k in node.keywords if k.arg != LANGUAGE_ARG]
        return node


def normalised_code(text: str) -> str:
    """`text` as code with comments, str literals and the set-up language argument taken out."""
    try:
        tree = ast.parse(text)
    except SyntaxError:  # IPython syntax (%magic, !shell): compare it as IPython runs it
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(text))
    tree = ast.fix_missing_locations(_Normalise().visit(tree))
    return ast.unparse(tree)


def problems(en_path: Path, zh_path: Path) -> list[str]:
    """Every way the zh notebook at `zh_path` is out of step with `en_path`; [] when in step."""
    name = zh_path.relative_to(REPO) if zh_path.is_relative_to(REPO) else zh_path
    if not zh_path.exists():
        return [f"{name}: missing; start it with: python tools/translation.py new "
                f"{en_path.relative_to(REPO) if en_path.is_relative_to(REPO) else en_path}"]
    en_cells = json.loads(en_path.read_text(encoding="utf-8"))["cells"]
    zh_cells = json.loads(zh_path.read_text(encoding="utf-8"))["cells"]
    found = []
    en_hashes = [cell_hash(c) for c in en_cells]
    zh_hashes = [recorded_hash(c) for c in zh_cells]
    if len(en_cells) != len(zh_cells) or any(
            a["cell_type"] != b["cell_type"] for a, b in zip(en_cells, zh_cells)):
        matcher = difflib.SequenceMatcher(a=en_hashes, b=zh_hashes, autojunk=False)
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op in ("delete", "replace"):
                found.append(f"{name}: English cells {a0}-{a1 - 1} have no zh twin at zh cell "
                             f"{b0} (added, or moved, in the English notebook only?)")
            if op in ("insert", "replace"):
                found.append(f"{name}: zh cells {b0}-{b1 - 1} have no English twin "
                             f"(added, or moved, in the zh notebook only?)")
        return found + [f"{name}: {len(zh_cells)} cells, the English notebook has "
                        f"{len(en_cells)}: both editions need the same cells in the same order"]
    for index, (en, zh) in enumerate(zip(en_cells, zh_cells)):
        if recorded_hash(zh) is None:
            found.append(f"{name}: cell {index} records no English hash; after translating "
                         f"it run: python tools/translation.py stamp {name} {index}")
        elif recorded_hash(zh) != en_hashes[index]:
            found.append(f"{name}: cell {index} is stale: its English cell changed; update the "
                         f"translation, then run: python tools/translation.py stamp {name} {index}")
        if en["cell_type"] == "code":
            try:
                a, b = normalised_code(source(en)), normalised_code(source(zh))
            except SyntaxError as error:
                found.append(f"{name}: cell {index} does not parse: {error}")
                continue
            if a != b:
                first = next((f"English: {x!r} / zh: {y!r}" for x, y in
                              zip(a.splitlines() + [""], b.splitlines() + [""]) if x != y), "")
                found.append(f"{name}: code cell {index} differs from the English cell outside "
                             f"comments and strings; first difference: {first}")
    return found


def all_problems() -> list[str]:
    return [p for en, zh in english_pairs() for p in problems(en, zh)]


def new(en_path: Path) -> Path:
    """Copy an English notebook into notebooks/zh/ with every cell stamped, to translate."""
    zh_path = ZH_DIR / en_path.resolve().relative_to(EN_DIR)
    if zh_path.exists():
        raise SystemExit(f"{zh_path} exists already; use stamp after updating cells")
    zh_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(en_path, zh_path)
    stamp(zh_path, None)
    return zh_path


def stamp(zh_path: Path, cells: list[int] | None) -> None:
    """Record the English hash in zh cells `cells` (all when None); the cell counts must agree."""
    zh_path = zh_path.resolve()
    en_path = EN_DIR / zh_path.relative_to(ZH_DIR)
    en_cells = json.loads(en_path.read_text(encoding="utf-8"))["cells"]
    notebook = json.loads(zh_path.read_text(encoding="utf-8"))
    if len(en_cells) != len(notebook["cells"]):
        raise SystemExit(f"{zh_path}: {len(notebook['cells'])} cells, {en_path} has "
                         f"{len(en_cells)}: add or remove the zh cells first")
    for index in range(len(en_cells)) if cells is None else cells:
        if not 0 <= index < len(en_cells):
            raise SystemExit(f"no cell {index}: the notebook has cells 0-{len(en_cells) - 1}")
        zh = notebook["cells"][index]
        if zh["cell_type"] != en_cells[index]["cell_type"]:
            raise SystemExit(f"cell {index} is {zh['cell_type']} in zh, "
                             f"{en_cells[index]['cell_type']} in English")
        zh.setdefault("metadata", {})[KEY] = {"en": cell_hash(en_cells[index])}
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"  # as nbformat
    zh_path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="list every zh cell out of step (exit 1 if any)")
    start = commands.add_parser("new", help="start translating an English notebook")
    start.add_argument("notebook", type=Path)
    mark = commands.add_parser("stamp", help="record English hashes in updated zh cells")
    mark.add_argument("notebook", type=Path)
    mark.add_argument("cells", type=int, nargs="*")
    mark.add_argument("--all", action="store_true", help="every cell of the notebook")
    args = parser.parse_args(argv)
    if args.command == "status":
        found = all_problems()
        print("\n".join(found) if found else "the zh edition is in step with the English one")
        return 1 if found else 0
    if args.command == "new":
        print(f"created {new(args.notebook)}")
        return 0
    if not args.cells and not args.all:
        parser.error("name the cells you updated, or --all")
    stamp(args.notebook, None if args.all else args.cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
