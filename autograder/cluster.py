"""Grading a batch on a Dask cluster (``grade.py grade ... --cluster ADDRESS``).

One task per submission.  The submission's bytes travel with the task (a folder is
zipped first), so the workers need no shared filesystem: a worker writes them to a
temporary folder, grades them there with :func:`autograder.engine.grade_submission`
(isolated workers as on a single machine, through a warm process that each dask worker
keeps per assignment: autograder/warm.py) and sends back the results dict and the
side files next to results.json (``student_output.txt``, ``source.py``, ``feedback.html``).
Only the submitting machine writes the output folder: ``OUT/<name>/results.json``
(temporary file, then rename), the side files and ``OUT/gradebook.csv``, exactly as a
local batch does.

* Task keys are stable per submission (assignment, name, settings and a hash of the
  bytes): a submission is one task, and one task is one gradebook row.
* A worker that dies mid-task is the scheduler's business: it reruns the task on
  another worker (up to ``distributed.scheduler.allowed-failures`` times).  That is why
  the bytes are task arguments (kept by the scheduler) and not scattered data (lost
  with the worker that held them).
* Results are taken as they complete (``as_completed``); ``on_done`` is called once per
  submission, from the calling thread.
* A task that fails (an exception on the worker, a worker killed too often) gives the
  submission a results.json with score 0 and a message; the batch goes on.  When the
  engine itself reports a grader failure with its own score-0 results.json, that one is
  kept, as in a local batch.  Either way ``error`` carries the details for the instructor.

From the engine this module uses only "grade this submission file into this results
path" (``grade_submission``) and "the batch's folder name of each submission"
(``unique_names``).  dask is imported lazily: it is the ``cluster`` extra.
"""
from __future__ import annotations

import asyncio
import atexit
import hashlib
import io
import json
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import __version__, registry
from autograder import results as _results
from autograder.results import failure_results, write_json

# A submission larger than this is not sent (the engine refuses far smaller ones anyway:
# 20 MB per file, 100 MB unpacked per zip); it gets a score-0 results.json instead.
MAX_SUBMISSION_BYTES = 128 << 20
# Side files next to results.json (student_output.txt, source.py, feedback.html) brought back
# from the worker; larger ones are dropped (the engine keeps a student's source under 20 MB).
MAX_SIDE_FILE_BYTES = 32 << 20
# Folders and files left out when a folder submission is zipped (as the engine ignores them).
_SKIP_PARTS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}

__all__ = ["ClusterError", "ClusterGraded", "Payload", "grade_on_cluster", "grade_payload", "pack_submission",
           "task_key"]


class ClusterError(RuntimeError):
    """The cluster could not be used (dask missing, scheduler unreachable)."""


@dataclass
class ClusterGraded:
    """One submission of a cluster batch; the fields of a local batch's result (``name``,
    ``submission``, ``results``, ``error``, ``skipped``) plus where it was graded."""
    name: str
    submission: Path
    results: dict | None
    error: str | None = None          # the grader failed (for the instructor); results then has score 0
    worker: str | None = None         # the dask worker that graded it
    key: str = ""                     # the dask task key
    skipped: bool = False             # never: a cluster batch has no --resume


@dataclass(frozen=True)
class Payload:
    """What travels with a task: a file name and its bytes (``None``: the submission
    does not exist on the submitting machine, which the worker reports as the engine does)."""
    filename: str
    data: bytes | None = field(repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data or b"").hexdigest()


class _TooLarge(Exception):
    pass


def _zip_folder(folder: Path) -> bytes:
    buf, total = io.BytesIO(), 0
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if any(part in _SKIP_PARTS for part in rel.parts) or not path.is_file():
                continue
            total += path.stat().st_size
            if total > MAX_SUBMISSION_BYTES:
                raise _TooLarge(f"the folder {folder.name} holds more than {MAX_SUBMISSION_BYTES >> 20} MB")
            # a fixed timestamp: the same folder always gives the same bytes (and task key)
            info = zipfile.ZipInfo(rel.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def pack_submission(path: Path) -> Payload:
    """The bytes to send for one submission: a file as it is, a folder as a zip."""
    path = Path(path)
    if path.is_dir():
        return Payload(f"{path.name}.zip", _zip_folder(path))
    if not path.exists():
        return Payload(path.name, None)
    if path.stat().st_size > MAX_SUBMISSION_BYTES:
        raise _TooLarge(f"{path.name} is larger than {MAX_SUBMISSION_BYTES >> 20} MB")
    return Payload(path.name, path.read_bytes())


def task_key(assignment_id: str, name: str, payload: Payload, *, timeout: float | None, device: str) -> str:
    """A stable dask key: the same submission with the same settings is the same task."""
    settings = json.dumps([assignment_id, name, payload.filename, payload.data is None, timeout, device,
                           __version__])
    digest = hashlib.sha256(settings.encode() + payload.digest.encode()).hexdigest()[:16]
    return f"ag-grade-{assignment_id}-{name}-{digest}"


def grade_payload(assignment_id: str, filename: str, data: bytes | None, *, timeout: float | None = None,
                  device: str = "auto") -> dict:
    """Runs on a dask worker: write the submission to a temporary folder, grade it there,
    return ``{"results": dict, "files": {name: bytes}, "worker": str, "error": str | None}``.
    When the engine reports that the grader failed but still wrote a results.json (score 0),
    that results.json comes back with the error, as in a local batch; any other exception
    fails the task."""
    from autograder import engine          # looked up at call time: the engine is the worker's own
    worker, scratch = _worker_info()
    # in the worker's own scratch folder: what a killed worker leaves there goes with that folder
    with tempfile.TemporaryDirectory(prefix="ag-cluster-", dir=scratch) as tmp:
        inbox, out = Path(tmp) / "in", Path(tmp) / "out"
        inbox.mkdir()
        submission = inbox / Path(filename).name
        if data is not None:
            submission.write_bytes(data)
        results_path = out / "results.json"
        error = None
        try:
            results = engine.grade_submission(assignment_id, submission, results_path, timeout=timeout,
                                              device=device, slot=_warm_slot(assignment_id))
        except engine.GraderError as exc:
            if not results_path.is_file():
                raise
            results, error = json.loads(results_path.read_text(encoding="utf-8")), str(exc)
        files = {}
        if out.is_dir():
            for p in sorted(out.iterdir()):
                if p.is_file() and p != results_path and p.suffix != ".tmp" and p.stat().st_size <= MAX_SIDE_FILE_BYTES:
                    files[p.name] = p.read_bytes()
    return {"results": results, "files": files, "worker": worker, "error": error}


_SERVERS: dict = {}
_SERVERS_LOCK = threading.Lock()


def _warm_slot(assignment_id: str):
    """A lane on this dask worker's warm process for the assignment (started by its first
    task, kept for the next ones; it exits when the dask worker does)."""
    from autograder.warm import WarmServer, WarmSlot
    with _SERVERS_LOCK:
        if assignment_id not in _SERVERS:
            _SERVERS[assignment_id] = WarmServer(assignment_id)
            atexit.register(_SERVERS[assignment_id].close)
        return WarmSlot(assignment_id, server=_SERVERS[assignment_id])


def _worker_info() -> tuple[str, str | None]:
    """The dask worker's name and scratch folder (hostname and the system's temporary
    folder outside a dask worker)."""
    try:
        from distributed import get_worker
        w = get_worker()
    except (ImportError, ValueError):
        import socket
        return socket.gethostname(), None
    scratch = w.local_directory if w.local_directory and os.path.isdir(w.local_directory) else None
    return str(w.name if w.name is not None else w.address), scratch


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _connect(address):
    """A distributed Client for ADDRESS (``tcp://host:port``, a scheduler file, a Cluster
    object), or ADDRESS itself when it already is a Client.  Returns (client, ours)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("grading on a cluster needs dask.distributed: pip install 'dl-autograder[cluster]'") \
            from None
    if isinstance(address, Client):
        return address, False
    try:
        if isinstance(address, (str, os.PathLike)) and Path(address).is_file():
            return Client(scheduler_file=str(address), set_as_default=False), True
        return Client(address, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _describe(exc: BaseException, limit: int = 4000) -> str:
    """For the instructor: the exception's type and text (the engine puts pytest's output there)."""
    text = str(exc).strip()
    if len(text) > limit:
        text = text[:limit // 4] + "\n...\n" + text[-(limit - limit // 4):]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def grade_on_cluster(assignment_id: str, submissions: list[Path], out_dir: Path, address, *,
                     timeout: float | None = None, device: str = "auto", on_done=None) -> list[ClusterGraded]:
    """Grade a batch on an existing dask.distributed cluster; write OUT/<name>/results.json
    for each submission and OUT/gradebook.csv.  ``address``: the scheduler's address
    (``tcp://host:8786``), a scheduler file, a dask Cluster object or a Client.  Returns one
    :class:`ClusterGraded` per submission, in the order given; ``on_done(graded)`` is called
    for each as it completes.  Raises :class:`ClusterError` when the cluster cannot be reached."""
    unique_names = _unique_names()
    registry.get(assignment_id)                      # fail fast on an unknown id
    submissions = [Path(s) for s in submissions]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = unique_names(submissions)
    graded: list[ClusterGraded | None] = [None] * len(submissions)

    def finish(i: int, item: ClusterGraded, files: dict | None = None) -> None:
        folder = out_dir / item.name
        for fname, data in (files or {}).items():
            _write_bytes_atomically(folder / Path(fname).name, data)
        write_json(folder / "results.json", item.results)
        graded[i] = item
        if on_done:
            on_done(item)

    client, ours = _connect(address)
    try:
        from distributed import as_completed
        index: dict[str, int] = {}
        futures = []
        for i, (name, sub) in enumerate(zip(names, submissions)):
            try:
                payload = pack_submission(sub)
            except (_TooLarge, OSError) as exc:
                finish(i, ClusterGraded(name, sub, failure_results(assignment_id, f"{exc}; it was not graded")))
                continue
            key = task_key(assignment_id, name, payload, timeout=timeout, device=device)
            index[key] = i
            futures.append(client.submit(grade_payload, assignment_id, payload.filename, payload.data,
                                         timeout=timeout, device=device, key=key, pure=False, retries=0))
        for future in as_completed(futures, loop=client.loop):
            i = index[future.key]                     # one task per submission: one row each
            name, sub = names[i], submissions[i]
            try:
                reply = future.result()
                item = ClusterGraded(name, sub, reply["results"], worker=reply.get("worker"), key=future.key,
                                     error=f"{name}: {reply['error']}" if reply.get("error") else None)
                files = reply.get("files")
            except (Exception, asyncio.CancelledError) as exc:   # failed on the cluster: score 0, batch goes on
                problem = (f"the grader failed on the cluster ({type(exc).__name__}), so it was not graded; "
                           "ask your instructor to grade it again")
                item = ClusterGraded(name, sub, failure_results(assignment_id, problem),
                                     error=f"{name}: grading failed on the cluster: {_describe(exc)}",
                                     key=future.key)
                files = None
            finally:
                future.release()
            finish(i, item, files)
    finally:
        if ours:
            client.close()
    _write_gradebook(out_dir, graded)
    return graded


def _unique_names():
    """The engine's rule for the batch's folder name of each submission (imported, never copied)."""
    try:
        from autograder.batch import unique_names
    except ImportError:
        from autograder.engine import unique_names
    return unique_names


def _write_gradebook(out_dir: Path, graded: list[ClusterGraded]) -> None:
    """As a local batch does: from every OUT/<name>/results.json where the engine rebuilds it
    that way, else from this batch's results."""
    rebuild = getattr(_results, "rebuild_gradebook", None)
    if rebuild is not None:
        rebuild(out_dir)
    else:
        _results.write_gradebook(out_dir / "gradebook.csv", [(g.name, g.results) for g in graded])
