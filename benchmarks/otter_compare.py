#!/usr/bin/env python3
"""otter-grader's own tests versus our grader, per submission, on the same a1_cnn notebook.

otter:  `otter run -a a1_cnn-otter-native.zip NOTEBOOK` with an autograder zip built here by
        hand, the way a course using otter writes it: OK-format doctest files, one per
        question, whose cases compare the student's functions with torch (F.conv2d,
        F.conv_transpose2d on the meta device, nn.Conv2d parameter counts, F.batch_norm, ...)
        on a few fixed, seeded inputs, plus a loose "vectorized" timing case (one thread,
        within 100x of F.conv2d: an im2col is ~10x, a loop over the pixels ~1000x; on a
        very busy machine even the reference can miss it, as timing doctests do).  otter executes
        the notebook in a Jupyter kernel and runs the doctests in that kernel's namespace: no
        isolation, no hypothesis cases, no forbidden-API checks.
ours:   `python grade.py grade a1_cnn NOTEBOOK --out DIR`: the hidden suite (hypothesis cases,
        gradients, forbidden APIs, interleaved speed checks), every student call in a sandboxed
        worker process.

Both are timed as the command a grader would type (a fresh process each, wall clock), in one
run, alternating which goes first, --repeat times; the table shows the median per
submission and the ratio ours / otter.  Submissions: the reference solution, a partial one
(conv2d still the stub) and the stub, each as a notebook.

    python benchmarks/otter_compare.py [--repeat 3] [--submissions reference,partial,stub]

The building blocks (QUESTIONS, otter_test_files, build_otter_zip, module_notebook,
submission_notebooks, run_otter, run_ours) are importable for other benchmarks.
"""
from __future__ import annotations

import argparse
import ast
import json
import pprint
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import ROOT, registry  # noqa: E402

AID = "a1_cnn"
OTTER = Path(sys.executable).parent / "otter"

# ---- otter's native tests: one OK-format question per function --------------------------
_SETUP = """\
>>> import itertools, time
>>> import torch
>>> import torch.nn.functional as F
>>> from torch import nn
"""

QUESTIONS: dict[str, dict] = {
    "conv_output_size": {"name": "q1_conv_output_size", "points": 4, "cases": [
        _SETUP + """\
>>> conv_output_size(32, 3), conv_output_size(32, 3, stride=2, padding=1), conv_output_size(32, 3, padding=2, dilation=2)
(30, 16, 32)
>>> conv_output_size((32, 17), (3, 5), stride=(1, 2), padding=(1, 0))
(32, 7)
""",
        _SETUP + """\
>>> def torch_size(h, k, s, p, d):
...     x, w = torch.empty(1, 1, h, h, device="meta"), torch.empty(1, 1, k, k, device="meta")
...     return F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
>>> cases = [c for c in itertools.product([7, 16, 33], [1, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2])
...          if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1]
>>> [c for c in cases if conv_output_size(*c) != torch_size(*c)]
[]
""",
        _SETUP + """\
>>> conv_output_size(17, 4, stride=3, padding="same"), conv_output_size(17, 4, padding="valid")
(6, 14)
""",
        _SETUP + """\
>>> def raises(**kw):
...     try:
...         conv_output_size(**kw)
...     except ValueError:
...         return True
...     return False
>>> raises(size=4, kernel_size=7), raises(size=8, kernel_size=0), raises(size=8, kernel_size=3, stride=0)
(True, True, True)
"""]},
    "conv_transpose_output_size": {"name": "q2_conv_transpose_output_size", "points": 2, "cases": [
        _SETUP + """\
>>> def torch_size(h, k, s, p, op, d):
...     x, w = torch.empty(1, 1, h, h, device="meta"), torch.empty(1, 1, k, k, device="meta")
...     return F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, dilation=d).shape[-1]
>>> cases = [c for c in itertools.product([1, 5, 16], [1, 3, 4], [1, 2, 3], [0, 1], [0, 1], [1, 2])
...          if c[4] < max(c[2], c[5]) and (c[0] - 1) * c[2] - 2 * c[3] + c[5] * (c[1] - 1) + c[4] + 1 > 0]
>>> [c for c in cases if conv_transpose_output_size(*c) != torch_size(*c)]
[]
""",
        _SETUP + """\
>>> conv_transpose_output_size((7, 8), 4, stride=2, padding=1)
(14, 16)
"""]},
    "receptive_field": {"name": "q3_receptive_field", "points": 2, "cases": [
        _SETUP + """\
>>> def torch_rf(layers, size=256):
...     x = torch.zeros(1, 1, size, dtype=torch.float64, requires_grad=True)
...     y = x
...     for layer in layers:
...         k, s, d = (tuple(layer) + (1,))[:3]
...         y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
...     y[0, 0, y.shape[-1] // 2].backward()
...     hit = x.grad[0, 0].nonzero()
...     return int(hit.max() - hit.min() + 1)
>>> stacks = [[(3, 1), (3, 1)], [(3, 1), (2, 2), (3, 1)], [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1)],
...           [(3, 1, 1), (3, 1, 2), (3, 1, 4)], [(7, 2), (3, 2), (3, 1), (3, 1)]]
>>> [(s, receptive_field(s), torch_rf(s)) for s in stacks if receptive_field(s) != torch_rf(s)]
[]
"""]},
    "conv2d": {"name": "q4_conv2d", "points": 10, "cases": [
        _SETUP + """\
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.randn(2, 3, 9, 8, generator=g, dtype=torch.float64)
>>> w = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64)
>>> torch.allclose(conv2d(x, w), F.conv2d(x, w))
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(1)
>>> x = torch.randn(2, 3, 11, 10, generator=g, dtype=torch.float64)
>>> w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)
>>> all(torch.allclose(conv2d(x, w, stride=s, padding=p), F.conv2d(x, w, stride=s, padding=p))
...     for s, p in [(2, 1), ((1, 2), (2, 0)), (3, 2)])
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(2)
>>> x = torch.randn(1, 2, 13, 12, generator=g, dtype=torch.float64)
>>> w = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64)
>>> all(torch.allclose(conv2d(x, w, dilation=d, padding=1), F.conv2d(x, w, dilation=d, padding=1)) for d in [2, (1, 3)])
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(3)
>>> x = torch.randn(2, 6, 8, 8, generator=g, dtype=torch.float64)
>>> w_grouped = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)
>>> w_depthwise = torch.randn(6, 1, 3, 3, generator=g, dtype=torch.float64)
>>> b = torch.randn(6, generator=g, dtype=torch.float64)
>>> torch.allclose(conv2d(x, w_grouped, groups=2), F.conv2d(x, w_grouped, groups=2))
True
>>> torch.allclose(conv2d(x, w_depthwise, b, padding=1, groups=6), F.conv2d(x, w_depthwise, b, padding=1, groups=6))
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(4)
>>> x = torch.randn(1, 2, 9, 10, generator=g, dtype=torch.float64)
>>> w = torch.randn(3, 2, 4, 2, generator=g, dtype=torch.float64)
>>> torch.allclose(conv2d(x, w, padding="same", dilation=2), F.conv2d(x, w, padding="same", dilation=2))
True
>>> torch.allclose(conv2d(x, w, padding="valid"), F.conv2d(x, w, padding="valid"))
True
>>> try:
...     conv2d(x, w, stride=2, padding="same")
... except ValueError:
...     print("ValueError")
ValueError
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(5)
>>> x = torch.randn(4, 7, 6, generator=g, dtype=torch.float64)
>>> w = torch.randn(6, 2, 3, 2, generator=g, dtype=torch.float64)
>>> b = torch.randn(6, generator=g, dtype=torch.float64)
>>> torch.allclose(conv2d(x, w, b, padding=1, groups=2), F.conv2d(x, w, b, padding=1, groups=2))
True
>>> x32, w32 = x.float(), w.float()
>>> conv2d(x32, w32, padding=1, groups=2).dtype
torch.float32
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(6)
>>> x1 = torch.randn(2, 4, 9, 8, generator=g, dtype=torch.float64, requires_grad=True)
>>> w1 = torch.randn(6, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
>>> b1 = torch.randn(6, generator=g, dtype=torch.float64, requires_grad=True)
>>> x2, w2, b2 = (t.detach().clone().requires_grad_() for t in (x1, w1, b1))
>>> kw = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
>>> up = torch.randn(F.conv2d(x1, w1, b1, **kw).shape, generator=g, dtype=torch.float64)
>>> conv2d(x1, w1, b1, **kw).backward(up)
>>> F.conv2d(x2, w2, b2, **kw).backward(up)
>>> all(torch.allclose(a.grad, e.grad) for a, e in [(x1, x2), (w1, w2), (b1, b2)])
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(7)
>>> x = torch.randn(2, 8, 96, 96, generator=g)
>>> w = torch.randn(16, 8, 3, 3, generator=g)
>>> def best(f, n=5):
...     f()
...     times = []
...     for _ in range(n):
...         t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
...     return min(times)
>>> threads = torch.get_num_threads()
>>> torch.set_num_threads(1)
>>> with torch.no_grad():
...     ratio = best(lambda: conv2d(x, w, padding=1)) / best(lambda: F.conv2d(x, w, padding=1))
>>> torch.set_num_threads(threads)
>>> ratio < 100
True
"""]},
    "separable_conv_params": {"name": "q5_separable_conv_params", "points": 2, "cases": [
        _SETUP + """\
>>> def count(m):
...     return sum(p.numel() for p in m.parameters())
>>> def torch_counts(cin, cout, k, bias):
...     standard = nn.Conv2d(cin, cout, k, bias=bias)
...     separable = nn.Sequential(nn.Conv2d(cin, cin, k, groups=cin, bias=bias), nn.Conv2d(cin, cout, 1, bias=bias))
...     return count(standard), count(separable)
>>> cases = [(32, 64, 3, True), (32, 64, 3, False), (3, 16, (5, 3), True), (16, 16, 1, False)]
>>> [c for c in cases if tuple(separable_conv_params(*c)) != torch_counts(*c)]
[]
"""]},
    "batch_norm2d": {"name": "q6_batch_norm2d", "points": 4, "cases": [
        _SETUP + """\
>>> g = torch.Generator().manual_seed(8)
>>> x = torch.randn(4, 3, 5, 6, generator=g, dtype=torch.float64) * 2 + 1
>>> gamma, beta = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
>>> rm1, rv1 = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
>>> rm2, rv2 = rm1.clone(), rv1.clone()
>>> out = batch_norm2d(x, rm1, rv1, gamma, beta, training=True, momentum=0.2)
>>> ref = F.batch_norm(x, rm2, rv2, gamma, beta, training=True, momentum=0.2)
>>> torch.allclose(out, ref), torch.allclose(rm1, rm2), torch.allclose(rv1, rv2)
(True, True, True)
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(9)
>>> x = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64)
>>> rm, rv = torch.randn(3, generator=g, dtype=torch.float64), torch.rand(3, generator=g, dtype=torch.float64) + 0.5
>>> torch.allclose(batch_norm2d(x, rm, rv, training=False), F.batch_norm(x, rm, rv, training=False))
True
""",
        _SETUP + """\
>>> g = torch.Generator().manual_seed(10)
>>> x1 = torch.randn(3, 2, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
>>> w1 = torch.rand(2, generator=g, dtype=torch.float64, requires_grad=True)
>>> b1 = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
>>> x2, w2, b2 = (t.detach().clone().requires_grad_() for t in (x1, w1, b1))
>>> up = torch.randn(3, 2, 4, 5, generator=g, dtype=torch.float64)
>>> batch_norm2d(x1, None, None, w1, b1, training=True).backward(up)
>>> F.batch_norm(x2, None, None, w2, b2, training=True).backward(up)
>>> all(torch.allclose(a.grad, e.grad) for a, e in [(x1, x2), (w1, w2), (b1, b2)])
True
"""]},
    "ResidualBlock": {"name": "q7_residual_block", "points": 3, "cases": [
        _SETUP + """\
>>> _ = torch.manual_seed(11)
>>> block = ResidualBlock(4, 4)
>>> sorted(k for k in block.state_dict() if not k.endswith("num_batches_tracked"))[:4]
['bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.weight']
>>> block.downsample is None
True
>>> down = ResidualBlock(4, 8, stride=2)
>>> [type(m).__name__ for m in down.downsample]
['Conv2d', 'BatchNorm2d']
""",
        _SETUP + """\
>>> _ = torch.manual_seed(12)
>>> block = ResidualBlock(4, 8, stride=2).double().eval()
>>> x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
>>> def expected(b, x):
...     out = F.relu(b.bn1(b.conv1(x)))
...     out = b.bn2(b.conv2(out))
...     return F.relu(out + b.downsample(x))
>>> with torch.no_grad():
...     y = block(x)
>>> y.shape, torch.allclose(y, expected(block, x))
(torch.Size([2, 8, 5, 5]), True)
"""]},
}


def otter_test_files(functions) -> dict[str, str]:
    """OK-format test files (path in the zip -> source) for the given functions, in order."""
    files = {}
    for fn in functions:
        q = QUESTIONS[fn]
        cases = [{"code": code, "hidden": False, "locked": False} for code in q["cases"]]
        spec = {"name": q["name"], "points": q["points"],
                "suites": [{"type": "doctest", "scored": True, "setup": "", "teardown": "", "cases": cases}]}
        files[f"tests/{q['name']}.py"] = f"OK_FORMAT = True\n\ntest = {pprint.pformat(spec, width=110)}\n"
    return files


def covered_functions(assignment_id: str = AID) -> list[str]:
    """The assignment's graded functions and classes that have an otter question here."""
    a = registry.get(assignment_id)
    return [fn for fn in (*a.functions, *a.classes) if fn in QUESTIONS]


def build_otter_zip(path: Path, functions) -> Path:
    """An otter autograder zip (otter_config.json + tests/*.py) for ``otter run -a``."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("otter_config.json", json.dumps({"lang": "python", "zips": False, "show_stdout": False}))
        for name, text in otter_test_files(functions).items():
            zf.writestr(name, text)
    return path


# ---- submissions as notebooks ------------------------------------------------------------
def module_notebook(source: str, title: str = "# a1_cnn") -> dict:
    """A notebook with one code cell per top-level statement group of ``source`` (imports,
    each function and class), as a student's notebook would hold them."""
    import nbformat
    tree = ast.parse(source)
    lines = source.splitlines()
    cells, imports = [], []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "\n".join(lines[start:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue                                        # the module docstring
        else:
            cells.append(text)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = ([nbformat.v4.new_markdown_cell(title), nbformat.v4.new_code_cell("\n".join(imports))] +
                [nbformat.v4.new_code_cell(c) for c in cells])
    return nb


def _definitions(source: str) -> dict[str, str]:
    tree, lines = ast.parse(source), source.splitlines()
    return {n.name: "\n".join(lines[n.lineno - 1:n.end_lineno]) for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def submission_notebooks(folder: Path, assignment_id: str = AID, kinds=("reference", "partial", "stub")) -> dict:
    """Notebooks ``folder/<kind>/<module>.ipynb``: the reference, the reference with conv2d
    replaced by the stub's (partial), and the stub."""
    import nbformat
    a = registry.get(assignment_id)
    reference = a.solution_path.read_text(encoding="utf-8")
    stub = a.stub_path.read_text(encoding="utf-8")
    sources = {"reference": reference, "stub": stub,
               "partial": reference.replace(_definitions(reference)["conv2d"], _definitions(stub)["conv2d"])}
    out = {}
    for kind in kinds:
        path = Path(folder) / kind / f"{a.module}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(module_notebook(sources[kind], f"# {assignment_id}: {kind}"), str(path))
        out[kind] = path
    return out


# ---- the two graders, timed -------------------------------------------------------------------
@dataclass
class Run:
    seconds: float
    score: float
    max_score: float


def run_otter(autograder_zip: Path, notebook: Path, out_dir: Path) -> Run:
    """``otter run`` on one notebook; wall time and otter's total."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([str(OTTER), "run", "-a", str(autograder_zip), "-o", str(out_dir), "--no-logo",
                           str(notebook)], cwd=notebook.parent, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or not (out_dir / "results.json").exists():
        raise SystemExit(f"otter run failed on {notebook}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    res = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    tests = [t for t in res["tests"] if "max_score" in t]
    return Run(elapsed, round(sum(t.get("score") or 0 for t in tests), 6),
               round(sum(t["max_score"] for t in tests), 6))


def run_ours(assignment_id: str, notebook: Path, out_dir: Path) -> Run:
    """``grade.py grade`` on one notebook; wall time and our total."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "grade", assignment_id, str(notebook),
                           "--out", str(out_dir)], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    results = out_dir / notebook.stem / "results.json"
    if proc.returncode != 0 or not results.exists():
        raise SystemExit(f"grade.py failed on {notebook}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    res = json.loads(results.read_text(encoding="utf-8"))
    return Run(elapsed, res["score"], res["max_score"])


def compare(kinds=("reference", "partial", "stub"), repeat: int = 3, assignment_id: str = AID,
            log=print) -> dict[str, dict[str, list[Run]]]:
    """Both graders on each submission, ``repeat`` rounds, alternating which goes first."""
    runs: dict[str, dict[str, list[Run]]] = {k: {"otter": [], "ours": []} for k in kinds}
    with tempfile.TemporaryDirectory(prefix="otter-compare-") as tmp:
        tmp = Path(tmp)
        functions = covered_functions(assignment_id)
        ag_zip = build_otter_zip(tmp / f"{assignment_id}-otter-native.zip", functions)
        log(f"otter questions: {', '.join(QUESTIONS[f]['name'] for f in functions)}")
        notebooks = submission_notebooks(tmp / "subs", assignment_id, kinds)
        for i in range(repeat):
            order = ("otter", "ours") if i % 2 == 0 else ("ours", "otter")
            for kind, nb in notebooks.items():
                for tool in order:
                    out = tmp / f"out-{tool}-{kind}-{i}"
                    run = run_otter(ag_zip, nb, out) if tool == "otter" else run_ours(assignment_id, nb, out)
                    runs[kind][tool].append(run)
                log(f"round {i + 1} {kind:9s}: " + ", ".join(
                    f"{t} {runs[kind][t][-1].seconds:5.1f} s ({runs[kind][t][-1].score:g}/{runs[kind][t][-1].max_score:g})"
                    for t in ("otter", "ours")))
    return runs


def report(runs: dict[str, dict[str, list[Run]]], repeat: int) -> str:
    lines = [f"\n{AID}, wall time per submission (median of {repeat}), one fresh process each:",
             f"  {'submission':11s} {'otter run':>10s} {'grade.py':>10s} {'ours/otter':>11s}   scores, last round (otter | ours)"]
    for kind, by_tool in runs.items():
        med = {t: statistics.median(r.seconds for r in by_tool[t]) for t in by_tool}
        o, g = by_tool["otter"][-1], by_tool["ours"][-1]
        lines.append(f"  {kind:11s} {med['otter']:9.2f}s {med['ours']:9.2f}s {med['ours'] / med['otter']:10.2f}x"
                     f"   {o.score:g}/{o.max_score:g} | {g.score:g}/{g.max_score:g}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--submissions", default="reference,partial,stub",
                        help="comma-separated, from reference, partial, stub")
    args = parser.parse_args()
    kinds = tuple(k.strip() for k in args.submissions.split(",") if k.strip())
    if not OTTER.exists():
        raise SystemExit(f"{OTTER} not found: pip install -e '.[test]' (otter-grader and ipykernel)")
    runs = compare(kinds, args.repeat)
    print(report(runs, args.repeat))
    for tool, tool_runs in (runs.get("reference") or {}).items():
        missed = [f"{r.score:g}/{r.max_score:g}" for r in tool_runs if r.score != r.max_score]
        if missed:
            print(f"note: {tool} gave the reference {', '.join(missed)} in some rounds (a timing case on a busy "
                  "machine?)")


if __name__ == "__main__":
    main()
