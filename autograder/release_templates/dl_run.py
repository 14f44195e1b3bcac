"""Grade one submission with this archive's hidden suite, through the same engine and
isolated workers as ``grade.py grade`` (autograder.engine.grade_submission).

    python dl_run.py                          # Gradescope: $AUTOGRADER_ROOT/submission -> results/results.json
    python dl_run.py --submission PATH --results results.json

Gradescope's ``run_autograder`` and the otter bridge (tests/dl_bridge/bridge.py) call it.
It always writes a results.json (SPEC section 4) and exits 0 unless it could not write one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
sys.path.insert(0, str(SOURCE))          # this archive's engine, not an installed one
RELEASE = json.loads((SOURCE / "release.json").read_text(encoding="utf-8"))


def find_submission(folder: Path, module: str) -> Path:
    """What to grade in an upload folder: the folder holding <module>.py, else the only
    notebook, else the only zip, else the only .py file; else the folder itself (the
    engine then reports what is missing)."""
    folder = Path(folder)
    direct = folder / f"{module}.py"
    if direct.is_file():
        return folder
    nested = sorted(p for p in folder.rglob(f"{module}.py") if "__MACOSX" not in p.parts)
    if nested:
        return nested[0].parent
    for pattern in ("*.ipynb", "*.zip", "*.py"):
        found = sorted(p for p in folder.rglob(pattern)
                       if ".ipynb_checkpoints" not in p.parts and "__MACOSX" not in p.parts
                       and p.name != "__init__.py")
        if len(found) == 1:
            return found[0]
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    parser.add_argument("--submission", default=None)
    parser.add_argument("--results", default=None)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--device", default=os.environ.get("AUTOGRADER_DEVICE", "auto"),
                        choices=("cpu", "cuda", "auto"))
    args = parser.parse_args(argv)
    root = Path(args.root)
    assignment = RELEASE["assignment"]
    submission = Path(args.submission) if args.submission else find_submission(root / "submission",
                                                                                RELEASE["module"])
    results_path = Path(args.results) if args.results else root / "results" / "results.json"
    os.environ["DL_AUTOGRADER_GRADING"] = "1"      # notebook check cells stay quiet
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SOURCE), os.environ.get("PYTHONPATH", "")) if p)   # workers use this archive too
    try:
        import autograder
        if Path(autograder.__file__).resolve().parent.parent != SOURCE:
            print(f"warning: grading with {autograder.__file__}, not this archive's engine", file=sys.stderr)
        from autograder.engine import grade_submission
        grade_submission(assignment, submission, results_path, timeout=args.timeout, device=args.device)
    except BaseException as exc:   # the platform must always get a results.json
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        from autograder.results import failure_results, write_json
        write_json(results_path, failure_results(
            assignment, f"the autograder itself failed ({type(exc).__name__}); please tell the course staff"))
    return 0 if results_path.is_file() else 1


if __name__ == "__main__":
    sys.exit(main())
