"""A batch: many submissions, every one of which gets a result, none of which is lost.

* Folder names under ``--out`` are safe and unique for any input (``..``, ``dup.py`` next to
  ``dup.zip`` and ``dup-2.py``, names a spreadsheet would run as a formula).
* Every results.json is written atomically; an earlier one stays until the new one is
  complete; gradebook.csv is always rebuilt from every results.json under ``--out``, so
  grading one student again never drops the others.
* Ctrl-C stops the work in flight (its processes are killed), writes the gradebook for
  what is done and says how to resume; ``--resume`` grades only what has no result or
  changed since its result.
* Slots: ``jobs`` warm slots (:mod:`autograder.warm`), each pinned to its own CPU when there
  are several (one lane has no other lane to keep off its core, and unpinned its grader and
  its workers can use every core).
"""
from __future__ import annotations

import os
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder import registry
from autograder.engine import Cancelled, GraderError, grade_submission
from autograder.results import failure_results, rebuild_gradebook, write_json
from autograder.warm import WarmServer, WarmSlot
from shared.tuning import on_cpu


def lane_cpus(jobs: int, cpus: list[int]) -> list[int | None]:
    """The core each lane is pinned to: its own one when there are several lanes and enough
    cores; None (unpinned) for a single lane or more lanes than cores."""
    return list(cpus[:jobs]) if 1 < jobs <= len(cpus) else [None] * jobs


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Graded:
    name: str
    submission: Path
    results: dict | None
    error: str | None = None
    skipped: bool = False            # --resume: its result was already up to date


def safe_name(path: Path) -> str:
    path = Path(path)
    base = path.name if path.is_dir() else path.stem
    base = _UNSAFE.sub("_", base).strip("._-")
    return base[:80] or "submission"


def unique_names(submissions: list[Path]) -> list[str]:
    """Deterministic, filesystem-safe, case-insensitively unique folder names."""
    taken: set[str] = set()
    names = []
    for sub in submissions:
        base = candidate = safe_name(sub)
        n = 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.lower())
        names.append(candidate)
    return names


def _newest_mtime(path: Path) -> float:
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        times = [p.lstat().st_mtime for p in path.rglob("*")]
        return max([path.lstat().st_mtime, *times])
    return path.lstat().st_mtime


def up_to_date(submission: Path, results_path: Path) -> bool:
    """--resume: a result that exists, is complete and is newer than its submission."""
    try:
        import json
        data = json.loads(results_path.read_text(encoding="utf-8"))
        if "score" not in data or data.get("extra_data", {}).get("grader_error"):
            return False
        return results_path.stat().st_mtime >= _newest_mtime(submission)
    except (OSError, ValueError):
        return False


class Stopped(Exception):
    """The batch was interrupted; what finished is saved."""

    def __init__(self, done: list[Graded], left: list[str]):
        super().__init__(f"interrupted with {len(left)} submission(s) not graded")
        self.done, self.left = done, left


def grade_many(assignment_id: str, submissions: list[Path], out_dir: Path, *, jobs: int | None = None,
               timeout: float | None = None, device: str = "auto", on_done=None, resume: bool = False,
               warm: bool = True, lang: str | None = None, budget: float | None = None,
               zygote_first: bool = True) -> list[Graded]:
    """Grade a batch; write OUT/<name>/results.json for each and OUT/gradebook.csv."""
    registry.get(assignment_id)            # fail fast on an unknown id
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = unique_names(list(submissions))
    jobs = jobs or os.cpu_count() or 1
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(jobs))
    work: queue.Queue = queue.Queue()
    graded: dict[str, Graded] = {}
    for name, sub in zip(names, submissions):
        if resume and up_to_date(sub, out_dir / name / "results.json"):
            graded[name] = Graded(name, Path(sub), None, skipped=True)
            if on_done:
                on_done(graded[name])
            continue
        work.put((name, Path(sub)))
    stop = threading.Event()
    server = WarmServer(assignment_id) if warm else None        # one warm-up for every lane
    slots = [WarmSlot(assignment_id, i, cpu, server=server) if warm else None
             for i, cpu in enumerate(lane_cpus(max(1, jobs), cpus))]
    lock = threading.Lock()
    if server is not None and not work.empty():
        server.start()                         # warms up while the first submissions load

    def worker(slot):
        if slot is not None and slot.cpu is not None:
            on_cpu(slot.cpu)                   # this thread: a lane's results written on its core
        while not stop.is_set():
            try:
                name, sub = work.get_nowait()
            except queue.Empty:
                return
            results_path = out_dir / name / "results.json"
            try:
                res = grade_submission(assignment_id, sub, results_path, timeout=timeout, device=device, slot=slot,
                                       lang=lang, budget=budget, cancel=stop, zygote_first=zygote_first)
                item = Graded(name, sub, res)
            except Cancelled:
                return
            except GraderError as exc:
                item = Graded(name, sub, _read(results_path), str(exc))
            except BaseException as exc:  # noqa: BLE001  never lose the batch over one submission
                if stop.is_set():
                    return
                res = failure_results(assignment_id, "the grader failed on this submission; please tell the course "
                                      "staff")
                res["extra_data"]["grader_error"] = f"{type(exc).__name__}: {exc}"
                write_json(results_path, res)
                item = Graded(name, sub, res, f"{type(exc).__name__}: {exc}")
            if stop.is_set() and item.results is None:
                return
            with lock:
                graded[name] = item
            if on_done:
                on_done(item)

    threads = [threading.Thread(target=worker, args=(slot,), daemon=True) for slot in slots]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for slot in slots:
            if slot is not None:
                slot.close()                # kills the grading children and their workers
        for t in threads:
            t.join(30)
        rebuild_gradebook(out_dir)
        raise Stopped([graded[n] for n in names if n in graded], [n for n in names if n not in graded]) from None
    finally:
        for slot in slots:
            if slot is not None:
                slot.close()
    rebuild_gradebook(out_dir)
    return [graded[n] for n in names if n in graded]


def _read(path: Path) -> dict | None:
    import json
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ---- what a batch is made of -------------------------------------------------------------
_CANVAS = re.compile(r"^(?P<student>[a-z0-9]+(?:_LATE)?_\d+)_\d+_(?P<file>.+)$")
_NOT_SUBMISSIONS = {"submission_metadata.yml", "submission_metadata.json", "__MACOSX", ".DS_Store"}


def looks_like_batch(folder: Path, module: str) -> bool:
    """A folder of several submissions rather than one student's work: no <module>.py in
    it, and several entries that are each a submission (.py, .ipynb, .zip, or a folder)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink() or any(folder.rglob(f"{module}.py")):
        return False
    entries = [p for p in folder.iterdir() if p.name not in _NOT_SUBMISSIONS and not p.name.startswith(".")
               and (p.is_dir() or p.suffix.lower() in (".py", ".ipynb", ".zip"))]
    return len(entries) >= 2 or (folder / "submission_metadata.yml").exists()


def expand(folder: Path, staging: Path) -> list[Path]:
    """The submissions of a batch folder (``grade --each``): every entry, in name order.
    Gradescope's export (``submission_<id>/`` folders next to submission_metadata.yml)
    gives one folder per submission; Canvas's bulk download (flat files named
    ``lastfirst[_LATE]_userid_submissionid_file``) is grouped per student, several files
    of one student becoming one folder (copied, regular files only, into ``staging``)."""
    folder = Path(folder)
    entries = sorted(p for p in folder.iterdir() if p.name not in _NOT_SUBMISSIONS and not p.name.startswith(".")
                     and not p.is_symlink())
    groups: dict[str, list[Path]] = {}
    for p in entries:
        m = _CANVAS.match(p.name) if p.is_file() else None
        groups.setdefault(m.group("student") if m else p.name, []).append(p)
    out = []
    for key, files in groups.items():
        if len(files) == 1:
            out.append(files[0])
            continue
        target = staging / key
        target.mkdir(parents=True, exist_ok=True)
        for f in files:
            m = _CANVAS.match(f.name)
            if f.is_file():
                (target / (m.group("file") if m else f.name)).write_bytes(f.read_bytes())
        out.append(target)
    return out
