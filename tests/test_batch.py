"""Batches that never stop and never lose work (issue: batches).

Every submission gets a result whatever it is; what is graded is never lost, whatever the
instructor does (grade one student again, Ctrl-C, kill the grader); names are safe; a
batch folder is given explicitly.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder import ROOT, engine, registry
from autograder.batch import expand, lane_cpus, looks_like_batch, unique_names
from autograder.cli import main

A1 = registry.get("a1_cnn")
PARTIAL = ROOT / "examples" / "submissions" / "a1_cnn" / "partial.py"


def _rows(out: Path) -> list[list[str]]:
    return list(csv.reader((out / "gradebook.csv").open()))[1:]


def _score(out: Path, name: str) -> float:
    return json.loads((out / name / "results.json").read_text())["score"]


def test_folder_names_are_safe_and_unique(tmp_path):
    paths = [tmp_path / "..", tmp_path / "dup.py", tmp_path / "dup.zip", tmp_path / "dup-2.py", tmp_path / "DUP.py",
             tmp_path / "=cmd|' /C calc'!A0.py", tmp_path / "@x.ipynb", tmp_path / "ü ber.py"]
    names = unique_names(paths)
    assert len(set(n.lower() for n in names)) == len(names)
    assert all(n and ".." not in n and "/" not in n and not n.startswith((".", "-", "=", "+", "@")) for n in names)
    assert names[1:5] == ["dup", "dup-2", "dup-2-2", "DUP-3"]
    assert unique_names(paths) == names                          # deterministic: --resume finds them again


def test_batch_folders_are_expanded_only_when_asked(tmp_path):
    plain = tmp_path / "class"
    plain.mkdir()
    for name in ("alice.py", "bob.ipynb", "carol.zip"):
        (plain / name).write_text("x = 1\n")
    assert looks_like_batch(plain, "a1_cnn")
    assert [p.name for p in expand(plain, tmp_path / "s1")] == ["alice.py", "bob.ipynb", "carol.zip"]
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    for name in ("doejane_12345_900_a1_cnn.py", "doejane_12345_901_helpers.py", "roe_LATE_555_902_a1_cnn.py"):
        (canvas / name).write_text("x = 1\n")
    subs = expand(canvas, tmp_path / "s2")
    assert [p.name for p in subs] == ["doejane_12345", "roe_LATE_555_902_a1_cnn.py"]
    assert sorted(p.name for p in subs[0].iterdir()) == ["a1_cnn.py", "helpers.py"]
    gradescope = tmp_path / "gradescope"
    (gradescope / "submission_1").mkdir(parents=True)
    (gradescope / "submission_2").mkdir()
    (gradescope / "submission_metadata.yml").write_text("submission_1: {}\n")
    assert [p.name for p in expand(gradescope, tmp_path / "s3")] == ["submission_1", "submission_2"]
    one = tmp_path / "one_student"
    (one / "work").mkdir(parents=True)
    (one / "work" / "a1_cnn.py").write_text("x = 1\n")
    (one / "helpers.py").write_text("y = 2\n")
    assert not looks_like_batch(one, "a1_cnn")


def test_paths_and_out_folders_are_checked_before_anything_is_graded(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["grade", "a1_cnn", str(PARTIAL), str(tmp_path / "typo.py"), "--out",
                                   str(tmp_path / "out")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output and "typo.py" in missing.output
    assert not (tmp_path / "out" / "partial").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad_out = runner.invoke(main, ["grade", "a1_cnn", str(PARTIAL), "--out", str(blocker / "sub")])
    assert bad_out.exit_code == 1 and "cannot write to --out" in bad_out.output and "Traceback" not in bad_out.output
    batch = tmp_path / "class"
    batch.mkdir()
    shutil.copy(PARTIAL, batch / "alice.py")
    shutil.copy(PARTIAL, batch / "bob.py")
    refused = runner.invoke(main, ["grade", "a1_cnn", str(batch), "--out", str(tmp_path / "o2")])
    assert refused.exit_code == 2 and "--each" in refused.output


def _grade(args, **kw):
    return subprocess.run([sys.executable, "grade.py", "grade", "a1_cnn", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, **kw)


@pytest.mark.slow
def test_grading_one_student_again_keeps_everyone_else(tmp_path):
    subs = []
    for name in ("alice", "bob", "carol"):
        shutil.copy(PARTIAL, tmp_path / f"{name}.py")
        subs.append(tmp_path / f"{name}.py")
    out = tmp_path / "out"
    assert _grade([*subs, "--out", out, "--jobs", "2"]).returncode == 0
    assert [r[0] for r in _rows(out)] == ["alice", "bob", "carol"]
    first = (out / "alice" / "results.json").read_text()
    assert _grade([subs[1], "--out", out]).returncode == 0      # bob again
    assert [r[0] for r in _rows(out)] == ["alice", "bob", "carol"]
    assert (out / "alice" / "results.json").read_text() == first


@pytest.mark.slow
def test_a_stuck_submission_is_bounded_by_its_budget_and_still_complete(tmp_path):
    stuck = tmp_path / "stuck.py"
    stuck.write_text("def _spin(*a, **k):\n    while True:\n        pass\n\n"
                     + "\n".join(f"{f} = _spin" for f in A1.functions) + "\n"
                     + "\n".join(f"class {c}:\n    def __init__(self, *a, **k):\n        _spin()\n" for c in A1.classes))
    started = time.monotonic()
    proc = _grade([stuck, "--out", tmp_path / "out", "--timeout", "2", "--budget", "6"])
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-2000:]
    res = json.loads((tmp_path / "out" / "stuck" / "results.json").read_text())
    graded = [t for t in res["tests"] if t["extra_data"]["kind"] != "summary"]
    assert res["score"] == 0 and len(graded) == len(engine.inventory("a1_cnn"))      # every test listed
    texts = " ".join(t["output"] for t in graded)
    assert "timed out after 2 s" in texts and ("earlier in this grading" in texts or "grading time" in texts)
    assert "used up its grading time (6 s" in texts
    assert elapsed < 120, elapsed


@pytest.mark.slow
def test_ctrl_c_keeps_what_is_done_and_resume_grades_the_rest(tmp_path):
    subs = []
    for i in range(6):
        shutil.copy(PARTIAL, tmp_path / f"s{i}.py")
        subs.append(tmp_path / f"s{i}.py")
    out = tmp_path / "out"
    out.mkdir()
    (out / "s0").mkdir()                                     # a result from an earlier run must survive
    (out / "s0" / "results.json").write_text(json.dumps({"score": 7.0, "max_score": 9.0, "tests": []}))
    os.utime(out / "s0" / "results.json")
    # Ctrl-C as a terminal sends it, even when this test runs in a background job (which
    # starts with SIGINT ignored, and Python then keeps it ignored)
    proc = subprocess.Popen([sys.executable, "grade.py", "grade", "a1_cnn", *map(str, subs), "--out", str(out),
                             "--jobs", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while len(list(out.glob("s[1-5]/results.json"))) < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)                                            # the next one is in flight now
    proc.send_signal(signal.SIGINT)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, text[-2000:]
    assert "--resume" in text and "Traceback" not in text
    graded = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert "s0" in graded and 2 <= len(graded) < 6
    assert json.loads((out / "s0" / "results.json").read_text())["score"] in (7.0, _score(out, graded[-1]))
    assert len(_rows(out)) == len(graded)                    # the gradebook lists what is done
    resumed = _grade([*subs, "--out", out, "--resume", "--jobs", "2"])
    assert resumed.returncode == 0 and "up to date" in resumed.stdout
    assert sorted(p.parent.name for p in out.glob("*/results.json")) == [f"s{i}" for i in range(6)]
    assert [r[0] for r in _rows(out)] == [f"s{i}" for i in range(6)]
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_a_batch_killed_halfway_resumes_to_the_same_scores(tmp_path):
    """Fault injection: SIGKILL the grader halfway through 10 submissions, then --resume."""
    kinds = {"ref": A1.solution_path, "stub": A1.stub_path, "partial": PARTIAL}
    subs = [tmp_path / f"{kind}{i}.py" for i in range(4) for kind in kinds][:10]
    for path in subs:
        shutil.copy(kinds[path.stem.rstrip("0123456789")], path)
    expected_out = tmp_path / "expected"
    assert _grade([tmp_path / "ref0.py", tmp_path / "stub0.py", tmp_path / "partial0.py", "--out", expected_out,
                   "--jobs", "2"]).returncode == 0
    expected = {kind: _score(expected_out, f"{kind}0") for kind in kinds}
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "grade.py", "grade", "a1_cnn", *map(str, subs), "--out", str(out),
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    while len(list(out.glob("*/results.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)                      # the grader and everything it started
    proc.wait()
    # the warm process (a session of its own) ends the gradings in flight cleanly, then exits:
    # no worker is left behind, not even one frozen during a speed check
    deadline = time.monotonic() + 120
    while _processes("autograder.warm") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes("autograder.warm") == [] and _processes(worker_uids=True) == []
    assert 0 < len(list(out.glob("*/results.json"))) < 10
    resumed = _grade([*subs, "--out", out, "--resume", "--jobs", "2"])
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    for path in subs:
        assert _score(out, path.stem) == expected[path.stem.rstrip("0123456789")], path.stem
    assert sorted(r[0] for r in _rows(out)) == sorted(p.stem for p in subs)


def test_a_zip_with_a_link_is_refused_with_a_message(tmp_path):
    archive = tmp_path / "linked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("a1_cnn.py")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, str(A1.solution_path))
    from autograder.submission import LoadError, materialize
    with pytest.raises(LoadError, match="symbolic link"):
        materialize(archive, "a1_cnn", tmp_path / "sub")


@pytest.mark.slow
def test_past_the_suite_timeout_everything_of_the_submission_is_killed_and_removed(tmp_path, monkeypatch):
    from autograder.isolation import confine
    from autograder.warm import WarmSlot
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(engine, "suite_timeout", lambda spec: 8.0)
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import time\n"
                     "def conv_output_size(*a, **k):\n    time.sleep(1000)\n")
    slot = WarmSlot("a1_cnn")
    try:
        res = engine.grade_submission("a1_cnn", stuck, tmp_path / "out" / "results.json", slot=slot)
    finally:
        slot.close()
    assert res["score"] == 0 and "longer than 8 s" in res["output"]
    assert len(res["tests"]) == len(engine.inventory("a1_cnn"))        # still every test, failed
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == res
    time.sleep(0.5)
    assert list(scratch.iterdir()) == []                                # run folders and copies removed
    kind = confine.backend()
    if kind != "none":
        base = confine.CGROUP_ROOT / "freezer" / confine.GROUP if kind == "v1" else confine._v2_base() / confine.GROUP
        assert [d for d in base.iterdir() if d.is_dir() and not d.name.startswith("probe")] == [] or \
            all(not list(d.iterdir()) or not confine._pids(d / "cgroup.procs") for d in base.iterdir() if d.is_dir())


@pytest.mark.slow
def test_uploads_that_used_to_crash_a_batch_get_results_and_the_batch_goes_on(tmp_path):
    """A 200,000-term expression, a notebook of 100,000 '[', a zip with a file x and a file
    x/a1_cnn.py, a zip with corrupt deflate data: each gets a results.json with score 0 and
    a message, the correct submission after them is graded, and the gradebook lists all."""
    from tests.test_submission import _corrupt_deflate, _zip_bytes
    (tmp_path / "deep.py").write_text("x = " + " + ".join(["1"] * 200_000) + "\n")
    (tmp_path / "brackets.ipynb").write_text("[" * 100_000)
    (tmp_path / "clash.zip").write_bytes(_zip_bytes([("x", "1"), ("x/a1_cnn.py", "y = 2\n")]))
    (tmp_path / "deflate.zip").write_bytes(_corrupt_deflate())
    shutil.copy(A1.solution_path, tmp_path / "zz_correct.py")
    out = tmp_path / "out"
    names = ["deep.py", "brackets.ipynb", "clash.zip", "deflate.zip", "zz_correct.py"]
    proc = _grade([*[tmp_path / n for n in names], "--out", out, "--jobs", "2"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    for name in ("deep", "brackets", "clash", "deflate"):
        res = json.loads((out / name / "results.json").read_text())
        assert res["score"] == 0 and res["max_score"] > 0 and "could not be loaded" in res["output"], name
    correct = json.loads((out / "zz_correct" / "results.json").read_text())
    assert correct["score"] == correct["max_score"] > 0
    assert len(_rows(out)) == 5


def test_the_grading_process_has_a_memory_limit():
    probe = ("import resource, sys; from autograder.engine import limit_grader_memory, GRADER_MEMORY_MB; "
             "limit_grader_memory('cpu'); soft, hard = resource.getrlimit(resource.RLIMIT_AS); "
             "sys.exit(0 if soft == hard == GRADER_MEMORY_MB << 20 else 1)")
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT).returncode == 0


def _processes(marker: str = "", worker_uids: bool = False) -> list[str]:
    """Processes whose command line holds ``marker``, or (``worker_uids``) that run as a
    worker's uid (autograder/isolation/process.py gives them uids from 200000)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path(f"/proc/{entry}/status").read_text().splitlines()
            uid = int(next(line.split()[1] for line in status if line.startswith("Uid:")))
            state = next(line.split()[1] for line in status if line.startswith("State:"))
        except (OSError, StopIteration, ValueError, IndexError):
            continue
        if state == "Z":
            continue        # dead, not yet reaped (by a test process that became a subreaper): runs nothing
        if (marker and marker in cmd) or (worker_uids and uid >= 200000):
            found.append(f"{entry} uid={uid} {cmd[:80]}")
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


@pytest.mark.slow
def test_lanes_share_one_warm_process_and_a_killed_submission_leaves_the_other_lane_alone(tmp_path, monkeypatch):
    """--jobs 2 runs two lanes on one warm process: a submission killed at the suite timeout
    in one lane loses its workers; the correct one graded at the same time in the other lane
    gets full marks, and afterwards the warm process holds nothing but its zygote."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.warm import WarmServer, WarmSlot
    monkeypatch.setattr(engine, "suite_timeout", lambda spec: 8.0)
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import time\ndef conv_output_size(*a, **k):\n    time.sleep(1000)\n")
    server = WarmServer("a1_cnn")
    lanes = [WarmSlot("a1_cnn", i, server=server) for i in range(2)]
    try:
        # a first request returns once the warm process is warm: the 8 s bound is for grading
        assert lanes[0].load("a1_cnn", A1.solution_path, tmp_path / "warm" / "sub", None,
                             tmp_path / "warm" / "load.json", 120)["load_error"] is None
        with ThreadPoolExecutor(2) as pool:
            stuck_run = pool.submit(engine.grade_submission, "a1_cnn", stuck, tmp_path / "stuck" / "results.json",
                                    slot=lanes[0])
            correct_run = pool.submit(engine.grade_submission, "a1_cnn", A1.solution_path,
                                      tmp_path / "correct" / "results.json", slot=lanes[1])
            stuck_res, correct_res = stuck_run.result(), correct_run.result()
        assert correct_res["score"] == correct_res["max_score"] > 0
        assert stuck_res["score"] == 0 and "longer than 8 s" in stuck_res["output"]
        left = _children(server.proc.pid)
        assert len(left) == 1, left                                         # the zygote, nothing else
        assert _children(left[0]) == []                                     # no worker of either survives
    finally:
        server.close()
    assert server.proc is None


def test_lanes_get_a_core_each_when_there_are_several():
    # several lanes: each on its own core, so one lane's speed checks never share a core
    # with another's; one lane, or more lanes than cores: not pinned
    assert lane_cpus(2, [0, 1]) == [0, 1]
    assert lane_cpus(2, [3, 5, 7]) == [3, 5]
    assert lane_cpus(1, [0, 1]) == [None]
    assert lane_cpus(4, [0, 1]) == [None] * 4
