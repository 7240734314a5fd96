"""Which result codes each exercise check can report as wrong, read from the checks' source.

The lesson plans need one [[misconception]] per code a learner can meet. A check's codes are
the string constants (keys of the English message table) in its body and in every helper it
reaches: functions and constants of its own module, and those it imports from the other
exercise modules (answers.py's `close_number(..., hints=[(value, "code")], otherwise="code")`
and `number_list(..., not_numbers="code", wrong_count="code")` take their codes as arguments,
so those constants sit in the check's own body). A code is a "correct" code, not a mistake,
when it reaches `correct(code)` — directly, or through a helper parameter that does (such as
close_number's `correct_code`); these are found by following parameters to a fixed point.

What it leaves out: running anything. Nothing is imported; the files are parsed with `ast`, so
a code built at run time (an f-string) is not seen. A code a check reaches but never returns
would be over-reported, which costs an author one extra table row, never a missed mistake.

Codes without a dot ("not_a_number", "raised", "returned", …) are shared by every check and
are left out of the required set (GENERIC).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SKIP = ("messages.py", "messages_en.py", "messages_zh.py", "__init__.py")


def message_table(path: Path) -> dict[str, str]:
    """The dict literal a messages_<lang>.py module assigns (ENGLISH or CHINESE), unimported."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
            return ast.literal_eval(node.value)
    raise ValueError(f"{path}: no message table (a module-level dict literal) found")


@dataclass
class _Module:
    name: str
    defs: dict[str, ast.AST]  # top-level functions and assigned constants, by name
    imports: dict[str, tuple[str, str]]  # local name -> (exercise module, name there)


def _load(folder: Path) -> dict[str, _Module]:
    modules = {}
    for path in sorted(folder.glob("*.py")):
        if path.name in SKIP:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        defs: dict[str, ast.AST] = {}
        imports: dict[str, tuple[str, str]] = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        defs[target.id] = node
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "course_utils.exercises."):
                for alias in node.names:
                    imports[alias.asname or alias.name] = (node.module.rsplit(".", 1)[1],
                                                           alias.name)
        modules[path.stem] = _Module(path.stem, defs, imports)
    return modules


def _resolve(modules: dict[str, _Module], module: str, name: str) -> tuple[str, str] | None:
    """(module, name) of the definition `name` means inside `module`, if it is ours."""
    seen = set()
    while (module, name) not in seen:
        seen.add((module, name))
        mod = modules.get(module)
        if mod is None:
            return None
        if name in mod.defs:
            return module, name
        if name not in mod.imports:
            return None
        module, name = mod.imports[name]
    return None


def _functions(modules: dict[str, _Module]):
    for mod in modules.values():
        for node in mod.defs.values():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield mod.name, node


def _params(func: ast.FunctionDef) -> list[str]:
    args = func.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


def _correct_codes(modules: dict[str, _Module]) -> set[str]:
    """Codes that reach `correct(...)`'s first argument, through helper parameters too."""
    sink_params: set[tuple[str, str, str]] = {("feedback", "correct", "code")}  # parameters
    codes: set[str] = set()
    changed = True
    while changed:
        changed = False
        for module, func in _functions(modules):
            own = _params(func)
            for call in ast.walk(func):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                    continue
                target = _resolve(modules, module, call.func.id) or (
                    ("feedback", "correct") if call.func.id == "correct" else None)
                if target is None:
                    continue
                callee = modules[target[0]].defs.get(target[1]) if target[0] in modules \
                    else None
                names = _params(callee) if isinstance(callee, ast.FunctionDef) else ["code"]
                bound = dict(zip(names, call.args))
                bound.update({k.arg: k.value for k in call.keywords if k.arg})
                for param, value in bound.items():
                    if (*target, param) not in sink_params:
                        continue
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        changed |= value.value not in codes
                        codes.add(value.value)
                    elif isinstance(value, ast.Name) and value.id in own:
                        key = (module, func.name, value.id)
                        changed |= key not in sink_params
                        sink_params.add(key)
    return codes


def wrong_codes(folder: Path, known: dict[str, str]) -> dict[str, list[str]]:
    """{check name: sorted codes (keys of `known`, with a dot) it can report as wrong}."""
    modules = _load(folder)
    correct = _correct_codes(modules)
    result = {}
    for mod in modules.values():
        for name, node in mod.defs.items():
            if not (name.startswith("check_") and isinstance(node, ast.FunctionDef)):
                continue
            found: set[str] = set()
            todo, seen = [(mod.name, node)], {(mod.name, name)}
            while todo:
                module, current = todo.pop()
                for sub in ast.walk(current):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        found.add(sub.value)
                    elif isinstance(sub, ast.Name):
                        target = _resolve(modules, module, sub.id)
                        if target and target not in seen and target[0] != "feedback":
                            seen.add(target)
                            todo.append((target[0], modules[target[0]].defs[target[1]]))
            result[name] = sorted(c for c in found if c in known and "." in c and c not in correct)
    return dict(sorted(result.items()))
