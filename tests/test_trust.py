"""Scores that cannot be gamed (issue: close the isolation and speed-check exploits).

Every attack in tests/adversarial/trust/ is graded through the real command line, as root,
in one batch beside a correct submission, and must score exactly what it deserves: all
but the forbidden-API points of a conv2d that reaches torch's convolution however it hides
it, all but the speed points of a slow conv2d however it games the clock, 0 for what is
not its own work.  Afterwards nothing of the batch is left: no process, no IPC object, no
file, and the disk is as full as before.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograder import ROOT, mutants, registry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the enforced sandbox (namespaces, cgroups, separate uids) needs "
                                                 "root, as on Gradescope and in CI; see README 'Isolation'"),
]

ATTACKS = Path(__file__).parent / "adversarial" / "trust"
A1 = registry.get("a1_cnn")
SHM_KEY = 0x5EED1


def _header(source: str, key: str) -> str | None:
    m = re.search(rf"^#\s*{key}:\s*(.+)$", source, re.M)
    return m.group(1).strip() if m else None


def build_attack(path: Path, dest: Path) -> Path:
    """An attack file is an overlay on the reference (``# base: <mutant>`` first applies a
    mutant, renaming its conv2d to _loop_conv2d) or, with ``# standalone:``, a whole file."""
    source = path.read_text()
    reference = A1.solution_path.read_text()
    if _header(source, "standalone"):
        dest.write_text(source)
        return dest
    base = _header(source, "base")
    if base:
        slow = mutants.build(reference, (A1.mutants_dir / f"{base}.py").read_text(), base)
        reference = slow.replace("\ndef conv2d(", "\ndef _loop_conv2d(", 1)
    dest.write_text(mutants.build(reference, source, path.stem))
    return dest


def _shm_keys() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines if line.split()}


def _free_bytes() -> int:
    stat = os.statvfs("/tmp")
    return stat.f_bavail * stat.f_frsize


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    subs = tmp_path_factory.mktemp("trust")
    shutil.copy(A1.solution_path, subs / "correct.py")
    for path in sorted(ATTACKS.glob("*.py")):
        build_attack(path, subs / path.name)
    shutil.copy(subs / "speed_memo.py", subs / "speed_memo_again.py")
    shutil.copy(subs / "speed_contention.py", subs / "speed_contention_again.py")
    helper = subs / "forbid_helper_module"
    helper.mkdir()
    build_attack(ATTACKS / "forbid_helper_module" / "overlay.py", helper / "a1_cnn.py")
    shutil.copy(ATTACKS / "forbid_helper_module" / "fastops.py", helper / "fastops.py")
    linked = subs / "symlink_reference"                 # a1_cnn.py is a link to the reference
    linked.mkdir()
    (linked / "a1_cnn.py").symlink_to(A1.solution_path)
    hidden = subs / "symlink_hidden"                     # a helper file linking to the hidden suite
    hidden.mkdir()
    (hidden / "a1_cnn.py").write_text("import pathlib\nraise ImportError(pathlib.Path(__file__).with_name("
                                      "'notes.py').read_text())\n")
    (hidden / "notes.py").symlink_to(A1.suite_dir / "test_conv2d.py")
    shm_before, free_before = _shm_keys(), _free_bytes()
    out = tmp_path_factory.mktemp("out")
    names = sorted(p.name for p in subs.iterdir())
    proc = subprocess.run([sys.executable, "grade.py", "grade", "a1_cnn", *[str(subs / n) for n in names],
                           "--out", str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    leftovers = [p for d in ("/tmp", "/dev/shm", "/var/tmp", str(Path.home())) for p in Path(d).glob("filler-*")]
    return {"proc": proc, "results": results, "out": out, "shm_before": shm_before, "shm_after": _shm_keys(),
            "free_before": free_before, "free_after": _free_bytes(), "leftovers": leftovers}


def failed(res: dict) -> list[dict]:
    return [t for t in res["tests"] if t["status"] == "failed" and t["extra_data"]["kind"] != "summary"]


def lost_only(res: dict, *, task: str | None = None, kind: str | None = None) -> None:
    """The submission lost points, and only in ``task`` (any task when None) and only in
    tests of ``kind`` (any kind when None)."""
    wrong = [t["name"] for t in failed(res)
             if (task and t["extra_data"]["task"] != task) or (kind and t["extra_data"]["kind"] != kind)]
    assert failed(res) and not wrong, f"lost points it should not have: {wrong}"


def test_the_batch_finished_and_the_correct_submission_gets_full_marks(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stdout[-3000:] + batch["proc"].stderr[-3000:]
    correct = batch["results"]["correct"]
    assert correct["max_score"] > 0 and correct["score"] == correct["max_score"], failed(correct)


@pytest.mark.parametrize("name", ["forbid_container", "forbid_aten", "forbid_helper_module"])
def test_every_way_to_hide_torch_convolution_loses_the_forbidden_api_points(batch, name):
    res = batch["results"][name]
    lost_only(res, task="1.4", kind="forbidden-api")
    assert all("conv2d" in t["output"] for t in failed(res))


@pytest.mark.parametrize("name", ["forbid_variable_functions", "forbid_patch_grader"])
def test_reaching_into_torch_or_grader_internals_loses_every_forbidden_api_check(batch, name):
    """torch._C, gc, sys.modules...: the means to tamper with the run-time trace void the
    forbidden-API checks of every task (and only those)."""
    res = batch["results"][name]
    lost_only(res, kind="forbidden-api")
    assert {t["extra_data"]["task"] for t in failed(res)} >= {"1.4"}


def test_tampering_with_the_grader_is_named(batch):
    text = " ".join(t["output"] for t in failed(batch["results"]["forbid_patch_grader"]))
    assert "tamper" in text and ("gc" in text or "sys.modules" in text or ".modules" in text)


@pytest.mark.parametrize("name", ["speed_memo", "speed_memo_again", "speed_contention", "speed_contention_again"])
def test_a_slow_conv2d_fails_the_speed_check_however_it_games_the_clock(batch, name):
    res = batch["results"][name]
    lost_only(res, task="1.4", kind="performance")
    assert all("cpu" in t["name"] for t in failed(res))


@pytest.mark.parametrize("name", ["symlink_reference", "symlink_hidden"])
def test_nothing_is_read_through_a_link(batch, name):
    res = batch["results"][name]
    assert res["score"] == 0 and "symbolic link" in res["output"]


def test_hidden_test_source_never_reaches_an_output(batch):
    hidden = [line.strip() for line in (A1.suite_dir / "test_conv2d.py").read_text().splitlines()
              if line.strip().startswith(("def test_", "with student.forbid", "perf.check"))]
    for path in batch["out"].rglob("*"):
        if path.is_file() and path.name != "source.py":
            text = path.read_text(errors="replace")
            assert not [line for line in hidden if line in text], path


def test_no_channel_between_students(batch):
    assert batch["results"]["ipc_b_reader"]["score"] == 0
    writer = batch["results"]["ipc_a_writer"]
    assert failed(writer) and all(t["extra_data"]["kind"] == "forbidden-api" for t in failed(writer))
    assert SHM_KEY not in batch["shm_after"]


def test_disk_writes_are_capped_and_leave_nothing(batch):
    res = batch["results"]["disk_filler"]
    lost_only(res, task="1.1")
    assert any("No space left" in t["output"] and "256 MiB" in t["output"] for t in failed(res))
    assert batch["leftovers"] == []
    assert batch["free_before"] - batch["free_after"] < 200 << 20


# ---- a6: arguments and call-backs ------------------------------------------------------------
A6 = registry.get("a6_xai")
ATTACKS_A6 = Path(__file__).parent / "adversarial" / "trust_a6"


def _build_a6(name: str, dest: Path) -> Path:
    dest.write_text(mutants.build(A6.solution_path.read_text(), (ATTACKS_A6 / f"{name}.py").read_text(), name))
    return dest


@pytest.fixture(scope="module")
def batch_a6(tmp_path_factory):
    subs = tmp_path_factory.mktemp("trust_a6")
    shutil.copy(A6.solution_path, subs / "correct.py")
    shutil.copy(ROOT / "examples" / "submissions" / "a6_xai" / "correct_autograd.py", subs / "correct_autograd.py")
    for path in sorted(ATTACKS_A6.glob("*.py")):        # stray_callbacks too: the batch must survive it
        _build_a6(path.stem, subs / path.name)
    out = tmp_path_factory.mktemp("out_a6")
    proc = subprocess.run([sys.executable, "grade.py", "grade", "a6_xai", *sorted(map(str, subs.iterdir())),
                           "--out", str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return {"proc": proc, "results": {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}}


@pytest.mark.parametrize("name", ["correct", "correct_autograd"])
def test_a6_batch_correct_gets_full_marks(batch_a6, name):
    """correct_autograd calls torch.autograd.grad without torch.enable_grad(): the speed
    checks run in the grad mode of the correctness checks, so it loses nothing."""
    assert batch_a6["proc"].returncode == 0, batch_a6["proc"].stdout[-3000:]
    correct = batch_a6["results"][name]
    assert correct["score"] == correct["max_score"] > 0, failed(correct)


def test_changing_an_argument_in_the_worker_is_seen_by_the_grader(batch_a6):
    res = batch_a6["results"]["modify_argument"]
    lost_only(res, task="2.1")
    assert any("modified its input X" in t["output"] for t in failed(res))


def test_an_oversized_callback_argument_is_refused(batch_a6):
    res = batch_a6["results"]["callback_flood"]
    lost_only(res, task="2.1")
    assert any("refused to call back" in t["output"] and "values in one call" in t["output"] for t in failed(res))


def _a6_worker(path: Path):
    from autograder.isolation.student import WorkerStudent
    return WorkerStudent(path, module=A6.module, functions=A6.functions, classes=A6.classes, timeout=10.0,
                         limits={"memory_mb": A6.memory_mb, "nproc": 256})


def test_the_grader_never_runs_predict_on_an_oversized_array(tmp_path):
    worker = _a6_worker(_build_a6("callback_flood", tmp_path / "a6_xai.py"))
    seen = []

    def predict(rows):
        seen.append(rows.shape)
        return rows.sum(axis=1)
    try:
        with pytest.raises(Exception, match="refused to call back with 12500000 values in one call"):
            worker.partial_dependence(predict, np.zeros((4, 3)), 0, np.linspace(0, 1, 5))
    finally:
        worker.close()
    assert seen == []


def test_callback_frames_after_a_call_end_the_worker_and_reach_no_later_test(tmp_path):
    from shared.feedback import StudentCrashed
    worker = _a6_worker(_build_a6("stray_callbacks", tmp_path / "a6_xai.py"))
    first, second = [], []
    try:
        worker.kernel_shap(lambda rows: first.append(rows) or rows.sum(axis=1), np.zeros(4), np.zeros((2, 4)), 8,
                           np.random.default_rng(0))
        time.sleep(0.5)                          # the thread now floods the pipe with call-back frames
        generation = worker.generation
        with pytest.raises(StudentCrashed, match="protocol"):
            worker.kernel_shap(lambda rows: second.append(rows) or rows.sum(axis=1), np.zeros(4),
                               np.zeros((2, 4)), 8, np.random.default_rng(0))
        assert worker.saliency is not None
        worker.shapley_values(lambda rows: rows.sum(axis=1), np.zeros(3), np.zeros((2, 3)))
        assert worker.generation == generation + 1          # a fresh worker took over
    finally:
        worker.close()
    assert first == [] and second == []


# ---- defence in depth: what a worker can see and do ----------------------------------------------------
PROBE = '''
import ctypes, errno, os, socket

def conv_output_size(*a, **k):
    libc = ctypes.CDLL(None, use_errno=True)
    status = open("/proc/self/status").read()
    def field(name):
        return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith(name))
    def refused(call):
        ctypes.set_errno(0)
        rc = call()
        return rc == -1 and ctypes.get_errno() in (errno.EPERM, errno.ENOSYS, errno.EACCES)
    return {
        "no_new_privs": field("NoNewPrivs"), "seccomp": field("Seccomp"), "uid": os.getuid(),
        "pid": os.getpid(), "hostname": socket.gethostname(), "pids": sorted(int(p) for p in os.listdir("/proc")
                                                                              if p.isdigit()),
        "ptrace": refused(lambda: libc.ptrace(16, 1, 0, 0)),                   # PTRACE_ATTACH
        "unshare": refused(lambda: libc.unshare(0x10000000)),                  # CLONE_NEWUSER
        "mount": refused(lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "affinity": refused(lambda: libc.sched_setaffinity(0, 8, ctypes.byref(ctypes.c_ulong(3)))),
        "bpf": refused(lambda: libc.syscall(321, 0, 0, 0)),
        "visible": {d: sorted(os.listdir(d))[:5] for d in ("/opt", "/var", "/srv", "/home", "/root", "/tmp")
                    if os.path.isdir(d)},
        "writable_root": os.access("/usr", os.W_OK) or os.access("/etc", os.W_OK),
    }
'''


def test_a_worker_is_confined_by_namespaces_seccomp_and_no_new_privs(tmp_path):
    from autograder.isolation.student import WorkerStudent
    (tmp_path / "a1_cnn.py").write_text(PROBE)
    worker = WorkerStudent(tmp_path / "a1_cnn.py", module="a1_cnn", functions=A1.functions, classes=A1.classes,
                           timeout=20.0, limits={"memory_mb": 4096, "nproc": 64})
    try:
        facts = worker.conv_output_size()
        enforced = worker.enforced()
    finally:
        worker.close()
    assert facts["no_new_privs"] == "1" and facts["seccomp"] == "2"
    assert facts["uid"] >= 200000 and facts["pid"] == 1 and facts["pids"] == [1]      # its own PID namespace
    assert facts["hostname"] == "grading-sandbox"
    assert all(facts[k] for k in ("ptrace", "unshare", "mount", "affinity", "bpf"))
    for folder in ("/opt", "/var", "/srv", "/home"):
        assert facts["visible"].get(folder, []) == [], (folder, facts["visible"])
    assert not facts["writable_root"]
    assert any("seccomp" in e for e in enforced) and any("IPC" in e for e in enforced)


# ---- a5: what a student object says about itself is not evidence ------------------------------
def test_a_model_that_reports_borrowed_layers_earns_no_architecture_points(tmp_path):
    a5 = registry.get("a5_gan")
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(a5.solution_path, subs / "correct.py")
    source = (Path(__file__).parent / "adversarial" / "trust_a5" / "fake_architecture.py").read_text()
    (subs / "fake_architecture.py").write_text(mutants.build(a5.solution_path.read_text(), source, "fake"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "grade.py", "grade", "a5_gan", *sorted(map(str, subs.iterdir())), "--out",
                           str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    assert results["correct"]["score"] == results["correct"]["max_score"], failed(results["correct"])
    fake = results["fake_architecture"]
    lost_only(fake, task="3.2")
    architecture = [t for t in fake["tests"] if t["extra_data"]["task"] == "3.2" and t["extra_data"]["kind"] != "summary"
                    and ("weights" in t["name"] or "parameter shapes" in t["name"])]
    assert len(architecture) >= 2 and all(t["status"] == "failed" for t in architecture)
