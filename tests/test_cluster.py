"""Grading a batch on a Dask cluster (autograder.cluster, issue 16).

A real scheduler and two real workers, started with dask's own command-line tools on
127.0.0.1, grade a small a1_cnn batch; every score must equal the local batch's
(grade_many).  A worker killed with SIGKILL while it grades loses no submission and
grades none twice.  The failure paths (an exception on the worker, a submission too
large to send) run on an in-process dask cluster, where the engine can be stubbed.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from autograder import cluster, engine

try:                                    # the local batch (moved out of the engine in its rework)
    from autograder.batch import grade_many
except ImportError:
    from autograder.engine import grade_many
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

AID = "a1_cnn"
DASK = Path(sys.executable).parent / "dask"


# ---- a real cluster: `dask scheduler` + `dask worker` processes ------------------------
class DaskProcesses:
    """A scheduler and named workers, each in its own process group (a kill takes the
    worker, its nanny and the grading processes it started)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _start(self, name: str, args: list[str]) -> None:
        log = self.folder / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as fh:
            self.procs[name] = subprocess.Popen([str(DASK), *args], cwd=self.folder, stdout=fh,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, workers: list[str]) -> None:
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.scheduler_file)])
        deadline = time.monotonic() + 60
        while not self.scheduler_file.exists():
            if self.procs["scheduler"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dask scheduler did not start:\n{self.log('scheduler')}")
            time.sleep(0.2)
        for name in workers:
            self._start(name, ["worker", "--scheduler-file", str(self.scheduler_file), "--host", "127.0.0.1",
                               "--nworkers", "1", "--nthreads", "1", "--name", name, "--no-dashboard",
                               "--death-timeout", "60", "--local-directory", str(self.folder / name)])
        with Client(scheduler_file=str(self.scheduler_file), set_as_default=False) as client:
            try:
                client.wait_for_workers(len(workers), timeout=90)
            except TimeoutError:
                raise RuntimeError("the dask workers did not start:\n" +
                                   "\n".join(self.log(n) for n in workers)) from None

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")[-3000:]

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(self.procs[name].pid, sig)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for name in [n for n in self.procs if n != "scheduler"] + ["scheduler"]:
            proc = self.procs[name]
            if proc.poll() is None:
                self.kill(name, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            self.kill(name, signal.SIGKILL)        # and whatever is left of its process group
            proc.wait(timeout=15)


@pytest.fixture
def dask_cluster(tmp_path):
    procs = DaskProcesses(tmp_path)
    try:
        procs.start(["w1", "w2"])
        yield procs
    finally:
        procs.stop()


# ---- the batch and its local grades -----------------------------------------------------
@pytest.fixture(scope="module")
def batch(tmp_path_factory, a1, reference_source) -> list[Path]:
    """reference (a folder: it is zipped to travel), stub, partial, a file that does not compile."""
    subs = tmp_path_factory.mktemp("cluster-subs")
    (subs / "reference").mkdir()
    (subs / "reference" / "a1_cnn.py").write_text(reference_source)
    (subs / "reference" / "__pycache__").mkdir()                     # left out of the zip
    (subs / "reference" / "__pycache__" / "junk.pyc").write_bytes(b"\0" * 16)
    shutil.copy(a1.stub_path, subs / "stub.py")
    shutil.copy(EXAMPLES / AID / "partial.py", subs / "partial.py")
    (subs / "broken.py").write_text(reference_source + "\ndef broken(:\n")
    return [subs / "reference", subs / "stub.py", subs / "partial.py", subs / "broken.py"]


@pytest.fixture(scope="module")
def local(batch, tmp_path_factory) -> dict:
    """The same batch graded locally (grade_many): what the cluster must reproduce."""
    out = tmp_path_factory.mktemp("local-out")
    graded = grade_many(AID, batch, out, jobs=2)
    assert not [g.error for g in graded if g.error]
    res = {g.name: g.results for g in graded}
    assert res["reference"]["score"] == res["reference"]["max_score"] > 0
    assert res["stub"]["score"] == 0
    assert 0 < res["partial"]["score"] < res["partial"]["max_score"]
    assert res["broken"]["score"] == 0 and "syntax error" in res["broken"]["output"]
    return {"out": out, "results": res}


def _gradebook(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _outcomes(res: dict) -> list[tuple]:
    return [(t["number"], t["name"], t["status"], t["score"], t["max_score"]) for t in res["tests"]]


# ---- a real cluster ---------------------------------------------------------------------------
def test_cluster_batch_grades_like_a_local_batch(dask_cluster, batch, local, tmp_path):
    out = tmp_path / "out"
    done = []
    graded = cluster.grade_on_cluster(AID, batch, out, dask_cluster.address, on_done=done.append)

    names = ["reference", "stub", "partial", "broken"]
    assert [g.name for g in graded] == names                   # submission order, engine's names
    assert sorted(g.name for g in done) == sorted(names)       # on_done once per submission
    assert not [g.error for g in graded if g.error]
    assert {g.worker for g in graded} <= {"w1", "w2"}
    for g in graded:
        expected = local["results"][g.name]
        on_disk = json.loads((out / g.name / "results.json").read_text(encoding="utf-8"))
        assert on_disk == g.results
        assert (g.results["score"], g.results["max_score"]) == (expected["score"], expected["max_score"]), g.name
        assert _outcomes(g.results) == _outcomes(expected), g.name
        assert g.results["output"] == expected["output"], g.name
        # the same files as a local batch (results.json and the side files the engine writes)
        assert sorted(p.name for p in (out / g.name).iterdir()) == \
            sorted(p.name for p in (local["out"] / g.name).iterdir()), g.name
    assert "syntax error in broken.py" in graded[3].results["output"]
    assert _gradebook(out / "gradebook.csv") == _gradebook(local["out"] / "gradebook.csv")


def _executing(client: Client, address: str) -> list[str]:
    """Keys the worker at ADDRESS is running right now (asked of the worker itself)."""
    try:
        reply = client.run(lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing],
                           workers=[address])
    except Exception:         # the worker is going away
        return []
    return reply.get(address, [])


def test_a_worker_killed_mid_task_loses_nothing_and_grades_nothing_twice(dask_cluster, batch, local, tmp_path):
    batch = [b for b in batch if b.stem != "stub"]            # three are enough: one on each worker, one waiting
    names = ["reference", "partial", "broken"]
    out = tmp_path / "out"
    done: list = []
    outcome: dict = {}

    def run():
        try:
            outcome["graded"] = cluster.grade_on_cluster(AID, batch, out, dask_cluster.address,
                                                         on_done=done.append)
        except BaseException as exc:           # reported by the assertions below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with Client(dask_cluster.address, set_as_default=False) as client:
        w1 = next(addr for addr, info in client.scheduler_info()["workers"].items() if info["name"] == "w1")
        deadline, killed = time.monotonic() + 120, []
        while not killed and time.monotonic() < deadline:
            running = _executing(client, w1)
            if running:
                time.sleep(1.5)                         # well inside a ~5-10 s grading
                still = _executing(client, w1)
                if set(running) & set(still):
                    dask_cluster.kill("w1")              # worker, nanny and its grading processes
                    killed = sorted(set(running) & set(still))
            time.sleep(0.2)
        assert killed, "worker w1 never ran a grading task"
        assert dask_cluster.procs["w1"].wait(timeout=10) == -signal.SIGKILL
    thread.join(timeout=300)
    assert not thread.is_alive(), "the batch did not finish after the worker was killed"
    assert "error" not in outcome, outcome.get("error")
    graded = outcome["graded"]

    assert Counter(g.name for g in done) == Counter(names)          # each reported exactly once
    assert [g.name for g in graded] == names
    rerun = [g for g in graded if g.key in killed]
    assert rerun and all(g.worker == "w2" for g in rerun)            # graded again, on the survivor
    for g in graded:
        assert g.error is None, f"{g.error}\n--- w2's log:\n{dask_cluster.log('w2')}"
        expected = local["results"][g.name]
        assert (g.results["score"], g.results["max_score"]) == (expected["score"], expected["max_score"]), g.name
        on_disk = json.loads((out / g.name / "results.json").read_text(encoding="utf-8"))
        assert on_disk["score"] == expected["score"]
    rows = _gradebook(out / "gradebook.csv")
    assert Counter(r["name"] for r in rows) == Counter(names)          # one row each
    assert rows == [r for r in _gradebook(local["out"] / "gradebook.csv") if r["name"] in names]
    assert not list(out.rglob("*.tmp"))                                 # no half-written file left


# ---- failure paths, on an in-process cluster ---------------------------------------------------
@pytest.fixture
def inprocess_cluster(tmp_path):
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None,
                          local_directory=str(tmp_path / "scratch")) as lc:
            yield lc


def test_a_failed_task_gives_score_zero_and_the_batch_goes_on(inprocess_cluster, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "fine.py").write_text("x = 1\n")
    (subs / "crash.py").write_text("x = 2\n")
    (subs / "halfway.py").write_text("x = 3\n")
    (subs / "huge.py").write_text("# " + "x" * 2000 + "\n")
    calls = []

    def fake_grade(assignment_id, submission, results_path, *, timeout=None, device="auto", slot=None):
        assert slot is not None and slot.assignment_id == assignment_id      # a lane of the worker's warm process
        calls.append((submission.name, submission.read_text(), timeout, device))
        if submission.name == "crash.py":
            raise engine.GraderError("the grader failed on crash.py (pytest exit 3):\n/secret/suite/test_x.py")
        results_path.parent.mkdir(parents=True, exist_ok=True)
        if submission.name == "halfway.py":          # the engine wrote its own score-0 results, then raised
            results_path.write_text(json.dumps({"score": 0.0, "max_score": 4.0, "output": "please tell the staff",
                                                "tests": [], "extra_data": {"grader_error": "pytest exit 4"}}))
            raise engine.GraderError("the grader failed on halfway.py: pytest exit 4")
        res = {"score": 3.0, "max_score": 4.0, "output": "graded", "tests": []}
        results_path.write_text(json.dumps(res))
        (results_path.parent / "student_output.txt").write_text("printed by the student\n")
        return res

    monkeypatch.setattr(engine, "grade_submission", fake_grade)
    monkeypatch.setattr(cluster, "MAX_SUBMISSION_BYTES", 1000)
    done = []
    graded = cluster.grade_on_cluster(AID, [subs / n for n in ("fine.py", "crash.py", "huge.py", "halfway.py")],
                                      tmp_path / "out", inprocess_cluster, timeout=7.0, device="cpu",
                                      on_done=done.append)
    fine, crash, huge, halfway = graded
    assert sorted(c[0] for c in calls) == ["crash.py", "fine.py", "halfway.py"]   # huge.py was never sent
    assert ("fine.py", "x = 1\n", 7.0, "cpu") in calls                        # bytes and settings travelled
    assert fine.results["score"] == 3.0 and fine.error is None
    assert (tmp_path / "out" / "fine" / "student_output.txt").read_text() == "printed by the student\n"

    assert crash.results["score"] == 0.0
    assert "grader failed on the cluster" in crash.results["output"]
    assert "/secret" not in json.dumps(crash.results)            # the grader's details stay with the instructor
    assert "GraderError" in crash.error and "pytest exit 3" in crash.error
    assert json.loads((tmp_path / "out" / "crash" / "results.json").read_text())["score"] == 0.0

    assert huge.results["score"] == 0.0 and "larger than" in huge.results["output"] and huge.error is None
    # the engine's own results.json of a failed grading is kept (as a local batch keeps it), with the error
    assert halfway.results["output"] == "please tell the staff" and halfway.results["max_score"] == 4.0
    assert "pytest exit 4" in halfway.error
    assert sorted(g.name for g in done) == ["crash", "fine", "halfway", "huge"]
    rows = {r["name"]: r["score"] for r in _gradebook(tmp_path / "out" / "gradebook.csv")}
    assert rows == {"fine": "3.0", "crash": "0.0", "huge": "0.0", "halfway": "0.0"}


def test_folder_payload_is_a_stable_zip_without_caches(tmp_path):
    folder = tmp_path / "alice"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "a1_cnn.py").write_text("def f():\n    return 1\n")
    (folder / "helper.py").write_text("y = 2\n")
    (folder / "__pycache__" / "a1_cnn.cpython-311.pyc").write_bytes(b"\0" * 8)
    first = cluster.pack_submission(folder)
    os.utime(folder / "a1_cnn.py", (1, 1))                     # a touched file: same bytes, same key
    second = cluster.pack_submission(folder)
    assert first.filename == "alice.zip" and first.data == second.data
    key = cluster.task_key(AID, "alice", first, timeout=None, device="auto")
    assert key == cluster.task_key(AID, "alice", second, timeout=None, device="auto")
    assert key != cluster.task_key(AID, "alice", first, timeout=None, device="cpu")
    (folder / "helper.py").write_text("y = 3\n")
    assert cluster.task_key(AID, "alice", cluster.pack_submission(folder), timeout=None, device="auto") != key
    with zipfile.ZipFile(io.BytesIO(first.data)) as zf:
        assert sorted(zf.namelist()) == ["a1_cnn.py", "helper.py"]
    missing = cluster.pack_submission(tmp_path / "nothing.py")
    assert missing.filename == "nothing.py" and missing.data is None


def test_unreachable_scheduler_is_a_cluster_error(tmp_path):
    import socket
    with socket.socket() as s:                      # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(cluster.ClusterError, match="cannot reach the Dask scheduler"):
            cluster.grade_on_cluster(AID, [tmp_path / "a.py"], tmp_path / "out", f"tcp://127.0.0.1:{port}")
