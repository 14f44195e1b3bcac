#!/usr/bin/env python3
"""How long does the similarity check (autograder/instructor/similarity.py) take on a
batch of a few hundred submissions?

Builds a synthetic batch OUT/<name>/source.py of --n submissions (300 by default):
variations of the a1_cnn reference and example submissions (variables renamed, top-level
functions reordered, comments and layout dropped by ast.unparse) plus some independent
ones (the other assignments' references and examples, also varied), then times
``compare_batch`` against the a1_cnn stub, prints the time, and checks that the top pairs
are variations of the same original (so a fast but blind check cannot pass unnoticed).

    python benchmarks/similarity_speed.py [--n 300] [--top 20] [--seed 0]
"""
from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import ROOT  # noqa: E402
from autograder.instructor.similarity import compare_batch  # noqa: E402

ASSIGNMENT = "a1_cnn"
WORDS = ["alpha", "beta", "gamma", "delta", "val", "tmp", "res", "arr", "buf", "acc", "out", "inp", "mat",
         "vec", "idx", "cnt", "data", "item", "elem", "node", "thing", "stuff", "foo", "bar", "baz", "qux"]


def originals() -> tuple[dict[str, str], dict[str, str]]:
    """(a1_cnn originals, independent originals): name -> source."""
    a1 = {"reference": (ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.py").read_text()}
    for path in sorted((ROOT / "examples" / "submissions" / ASSIGNMENT).glob("*.py")):
        if path.stem != "stub":
            a1[path.stem] = path.read_text()
    other = {}
    for folder in sorted((ROOT / "solutions").iterdir()):
        if folder.name != ASSIGNMENT and (folder / f"{folder.name}.py").is_file():
            other[f"{folder.name}-reference"] = (folder / f"{folder.name}.py").read_text()
    for path in sorted((ROOT / "examples" / "submissions").glob("*/*.py")):
        if path.parent.name != ASSIGNMENT:
            other[f"{path.parent.name}-{path.stem}"] = path.read_text()
    return a1, other


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def vary(source: str, rng: random.Random) -> str:
    """Rename local variables and parameters, shuffle the top-level functions, drop comments."""
    tree = ast.parse(source)
    top_level = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    imported = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    local -= top_level | imported | {"self", "cls"}
    mapping = {name: f"{rng.choice(WORDS)}_{i}" for i, name in enumerate(sorted(local)) if rng.random() < 0.8}
    tree = _Rename(mapping).visit(tree)
    functions = [i for i, n in enumerate(tree.body) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    shuffled = [tree.body[i] for i in functions]
    rng.shuffle(shuffled)
    for i, node in zip(functions, shuffled):
        tree.body[i] = node
    return ast.unparse(tree) + "\n"


def make_batch(out: Path, n: int, seed: int = 0, independent: float = 0.2) -> dict[str, str]:
    """Write n synthetic submissions under out; returns name -> the original it came from."""
    rng = random.Random(seed)
    a1, other = originals()
    origin = {}
    for i in range(n):
        pool = other if rng.random() < independent else a1
        base = rng.choice(sorted(pool))
        name = f"s{i:03d}"
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "source.py").write_text(vary(pool[base], rng))
        (folder / "results.json").write_text(json.dumps({
            "score": 0.0, "max_score": 1.0, "execution_time": 0.0, "output": "", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": [], "extra_data": {"assignment": ASSIGNMENT}}))
        origin[name] = base
    return origin


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        out = Path(tmp)
        origin = make_batch(out, args.n, args.seed)
        started = time.perf_counter()
        result = compare_batch(out, top=args.top, assignment_id=ASSIGNMENT)
        elapsed = time.perf_counter() - started
    pairs = len(result.compared) * (len(result.compared) - 1) // 2
    same = sum(origin[p.a] == origin[p.b] for p in result.pairs)
    print(f"similarity: {args.n} submissions, {pairs} pairs compared in {elapsed:.2f} s "
          f"({len(result.skipped)} left out)")
    print(f"top {len(result.pairs)} pairs: {same} are variations of the same original "
          f"(lowest score shown {min((p.score for p in result.pairs), default=0):.2f})")
    return 0 if same == len(result.pairs) else 1


if __name__ == "__main__":
    sys.exit(main())
