"""Grade one submission with this archive's hidden suite, through the same engine and
isolated workers as ``grade.py grade`` (autograder.engine.grade_submission).

    python dl_run.py                          # Gradescope: $AUTOGRADER_ROOT/submission -> results/results.json
    python dl_run.py --submission PATH --results results.json

Gradescope's ``run_autograder`` and the otter bridge (tests/dl_bridge/bridge.py) call it.
It always writes a results.json (SPEC section 4) and exits 0 unless it could not write one.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
sys.path.insert(0, str(SOURCE))          # this archive's engine, not an installed one
RELEASE = json.loads((SOURCE / "release.json").read_text(encoding="utf-8"))

from shared.handout import HandoutError, copy_regular_files, find_module  # noqa: E402


def find_submission(folder: Path, module: str) -> Path:
    """What to grade in an upload folder.  Its regular files are first copied to a private
    folder without following any link (a symbolic link or a special file anywhere refuses
    the upload: :class:`HandoutError`), so nothing outside the upload is ever read.  Then,
    in the copy: the copy itself when the handout rule (``shared.handout.find_module``:
    ``<module>.py``, else the only notebook, else the only .py) finds the file to grade -
    the engine applies the same rule -, else the only .zip of the top level (the engine
    unpacks it), else the copy (the engine then reports what is missing)."""
    folder = Path(folder)
    if folder.is_symlink():
        raise HandoutError(f"{folder.name} is a symbolic link: hand in the files themselves")
    if not folder.is_dir():                    # --submission FILE (the otter bridge's copy)
        return folder
    private = Path(tempfile.mkdtemp(prefix="dl-submission-"))
    atexit.register(shutil.rmtree, private, True)
    copy = copy_regular_files(folder, private / "submission")
    try:
        find_module(copy, module)
        return copy
    except HandoutError:
        zips = sorted(copy.glob("*.zip"))
        return zips[0] if len(zips) == 1 else copy


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
    results_path = Path(args.results) if args.results else root / "results" / "results.json"
    try:
        submission = find_submission(Path(args.submission) if args.submission else root / "submission",
                                     RELEASE["module"])
    except (HandoutError, OSError) as exc:      # a link in the upload: refused, nothing behind it read
        from autograder.results import failure_results, write_json
        write_json(results_path, failure_results(assignment, str(exc)))
        return 0
    os.environ["DL_AUTOGRADER_GRADING"] = "1"      # notebook check cells stay quiet
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SOURCE), os.environ.get("PYTHONPATH", "")) if p)   # workers use this archive too
    try:
        import autograder
        if Path(autograder.__file__).resolve().parent.parent != SOURCE:
            print(f"warning: grading with {autograder.__file__}, not this archive's engine", file=sys.stderr)
        from autograder.engine import grade_submission
        grade_submission(assignment, submission, results_path, timeout=args.timeout, device=args.device)
        try:   # late policy: Gradescope's submission_metadata.json + the assignment's [late] (else nothing)
            from autograder.instructor.late import apply_gradescope_late_policy
            apply_gradescope_late_policy(root / "submission_metadata.json", assignment, results_path)
        except Exception:          # never lose the grade over the penalty; the log says what failed
            traceback.print_exc()
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
