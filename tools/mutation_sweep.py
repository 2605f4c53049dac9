"""Mechanical mutants, drawn at random: an unbiased sample of one-line bugs for tools/mutation_check.py.

The hand-written sets (mutants_set*.py) pick lines a person thinks matter; this draws lines at random from the
code of the six areas (networks, rendering, metrics, training, shapes, sampling) and applies one mechanical
operator change to each, in the spirit of mutmut: an arithmetic or comparison operator swapped, a number moved
by one (or doubled), True / False flipped, `and` / `or` swapped, a `not` dropped. Lines inside docstrings, raise
statements and message strings are not drawn. Each mutant's tests are its area's group from mutation_check.

    python tools/mutation_sweep.py --count 60 --seed 0 > /tmp/sweep.py
    python tools/mutation_check.py --mutants /tmp/sweep.py --confirm --out /tmp/sweep.json

Some mechanical mutants are equivalent (a chunk size, a tolerance that no input reaches); judge the survivors.
"""
from __future__ import annotations

import argparse
import ast
import io
import random
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "op3d"
# area: (directories / files under op3d/, test group names in mutation_check)
AREAS = {
    "networks": (["networks", "planes"], "NET"),
    "rendering": (["rendering"], "REND"),
    "metrics": (["metrics"], "MET"),
    "training": (["training"], "TRAIN"),
    "shapes": (["shapes"], "SHAPES"),
    "sampling": (["sampling", "data/cameras.py", "io/checkpoint.py", "io/api.py", "presets.py"], "SAMP + NET"),
}
# files whose tests sit in another group (op3d sample's pose options are tested with the conditional networks)
BY_NAME = {"conditional": "COND + NET", "cameras": "SAMP + TRAIN", "sampling/cli.py": "SAMP + NET + COND"}
SWAPS = {"+": "-", "-": "+", "*": "/", "/": "*", "//": "/", "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=",
         "!=": "==", "and": "or", "or": "and", "True": "False", "False": "True", "**": "*", "%": "//"}


def skipped_lines(source: str) -> set[int]:
    """Line numbers of docstrings, raise / assert statements, string-only expressions and f-string messages."""
    skip = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Raise, ast.Assert)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            skip.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "print", "warn", "echo", "info", "secho", "ValueError", "RuntimeError", "TypeError"):
            skip.update(range(node.lineno, node.end_lineno + 1))
    return skip


def line_mutations(line: str) -> list[str]:
    """Every single-token mechanical change of one source line (tokens inside strings untouched)."""
    tokens = []
    try:  # a line of a longer statement ends in a tokenize error: keep the tokens before it
        for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            tokens.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    text = line.strip()
    out = []
    for tok in tokens:
        old = tok.string
        if tok.type == tokenize.OP or (tok.type == tokenize.NAME and old in ("and", "or", "True", "False", "not")):
            new = "" if old == "not" else SWAPS.get(old)
            if old == "-" and tok.start[1] > 0 and text[:tok.start[1]].rstrip()[-1:] in "(,[=":
                new = ""  # a unary minus: drop it
        elif tok.type == tokenize.NUMBER:
            try:
                value = ast.literal_eval(old)
            except ValueError:
                continue
            new = repr(value * 2) if isinstance(value, float) and value else repr(value + 1)
        else:
            new = None
        if new is None:
            continue
        a, b = tok.start[1], tok.end[1]
        mutated = text[:a] + new + text[b:]
        if old == "not":
            mutated = text[:a] + text[b:].lstrip()
        if mutated != text:
            out.append(mutated)
    return out


def candidates(rel: str) -> list[tuple[str, str, str]]:
    """(file, fragment, replacement) for every mutable line of one file whose text occurs once in it."""
    source = (ROOT / rel).read_text()
    skip = skipped_lines(source)
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        if number in skip or not text or text.startswith(("#", "@", "import ", "from ", "def ", "class ")):
            continue
        if source.count(text) != 1:
            continue
        for mutated in line_mutations(line):
            try:
                compile(source.replace(text, mutated), rel, "exec")
            except SyntaxError:
                continue
            out.append((rel, text, mutated))
    return out


def area_files(parts: list[str]) -> list[str]:
    files = []
    for part in parts:
        path = ROOT / part
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        files += [str(f.relative_to(ROOT)) for f in found if f.name != "__init__.py"]
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=60, help="mutants in all, split over the areas by mutable lines")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pools = {area: [c for f in area_files(parts) for c in candidates(f)] for area, (parts, _) in AREAS.items()}
    lines = {area: sorted({(c[0], c[1]) for c in pool}) for area, pool in pools.items()}
    total = sum(len(v) for v in lines.values())
    print(f'"""Mechanical mutants from tools/mutation_sweep.py --count {args.count} --seed {args.seed}."""')
    print("# ruff: noqa: F821, E501\nMUTANTS = [")
    for area, (_, group) in AREAS.items():
        n = round(args.count * len(lines[area]) / total)
        for rel, text in rng.sample(lines[area], min(n, len(lines[area]))):
            _, old, new = rng.choice([c for c in pools[area] if c[0] == rel and c[1] == text])
            tests = next((g for key, g in BY_NAME.items() if key in rel), group)
            print(f"    ({rel!r}, {old!r}, {new!r}, {tests}, {f'{area}: {old} -> {new}'!r}),")
    print("]")


if __name__ == "__main__":
    main()
