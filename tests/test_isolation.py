"""Student code never runs in the grader's process, under limits (issue: isolation).

The adversarial corpus in tests/adversarial/ is graded in one batch through the real
command-line path; every submission must score exactly 0, the batch must go on, and
afterwards no process of a submission may be alive, the grader's tree must be unchanged
and the hidden tests must not appear in any output.
"""
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import torch

from autograder import ROOT, registry
from autograder.batch import grade_many
from autograder.isolation.student import WorkerStudent
from shared.feedback import StudentCodeError, StudentRaised, StudentTimeout


def make_worker(path, assignment, timeout=10.0, limits=None):
    return WorkerStudent(path, module=assignment.module, functions=assignment.functions, classes=assignment.classes,
                         timeout=timeout, limits={"memory_mb": assignment.memory_mb, "nproc": 256, **(limits or {})})

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the full sandbox (namespaces, separate uid) needs root, "
                                                 "as on Gradescope and in CI; see README 'Isolation'"),
]

CORPUS = Path(__file__).parent / "adversarial"
TREE_DIRS = ["autograder", "solutions", "assignments", "shared", "tests", "examples", "grade.py", "pyproject.toml"]


def tree_digest() -> dict[str, str]:
    digest = {}
    for top in TREE_DIRS:
        base = ROOT / top
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or ".hypothesis" in path.parts:
                continue
            digest[str(path.relative_to(ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    for extra in ("pwned-by-student.txt",):
        digest[extra] = str((ROOT / extra).exists())
    return digest


class Listener:
    """A TCP listener on loopback that records every connection it accepts."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def processes_matching(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().decode(errors="replace")
            status = open(f"/proc/{entry}/status").read()
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        except (OSError, AttributeError):
            continue
        if re.search(r"^State:\s+Z", status, re.M):
            continue        # dead, not yet reaped (by a test process that became a subreaper): runs nothing
        if marker in cmd or uid >= 200000:
            found.append(f"{entry} uid={uid} {cmd[:80]}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    marker = f"agmark{uuid.uuid4().hex[:10]}"
    listener = Listener()
    subs = tmp_path_factory.mktemp("corpus")
    for src in sorted(CORPUS.glob("*.py")):
        text = src.read_text().replace("@MARKER@", marker).replace("@PORT@", str(listener.port))
        (subs / src.name).write_text(text)
    before = tree_digest()
    out = tmp_path_factory.mktemp("out")
    started = time.monotonic()
    graded = grade_many("a1_cnn", sorted(subs.glob("*.py")), out, jobs=2, timeout=1)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    state = {"graded": {g.name: g for g in graded}, "out": out, "marker": marker, "elapsed": elapsed,
             "before": before, "after": tree_digest(), "accepted": listener.accepted,
             "alive": processes_matching(marker)}
    heartbeat = Path(f"/tmp/{marker}-heartbeat")
    size1 = heartbeat.stat().st_size if heartbeat.exists() else 0
    time.sleep(1.0)
    state["heartbeat_growing"] = (heartbeat.stat().st_size if heartbeat.exists() else 0) > size1
    listener.close()
    yield state
    heartbeat.unlink(missing_ok=True)


def test_corpus_is_large_enough():
    assert len(list(CORPUS.glob("*.py"))) >= 12


@pytest.mark.parametrize("name", sorted(p.stem for p in CORPUS.glob("*.py")))
def test_each_attack_scores_exactly_zero(graded, name):
    g = graded["graded"][name]
    assert g.error is None, f"the grader itself failed on {name}: {g.error}"
    results = g.results
    assert results["score"] == 0, [t["name"] for t in results["tests"] if t["status"] == "passed"]
    assert results["max_score"] > 0 and results["tests"]
    saved = json.loads((graded["out"] / name / "results.json").read_text())
    assert saved["score"] == 0 and "PWNED" not in json.dumps(saved)


def test_batch_went_on_and_gradebook_lists_everyone(graded):
    gradebook = (graded["out"] / "gradebook.csv").read_text().splitlines()
    assert len(gradebook) == 1 + len(graded["graded"])
    assert all(line.split(",")[1] == "0.0" for line in gradebook[1:])


def test_timeouts_and_crashes_have_clear_messages(graded):
    loop = graded["graded"]["infinite_loop"].results
    assert any("timed out after 1 s in conv2d" in t["output"] for t in loop["tests"])
    crash = graded["graded"]["os_exit_in_function"].results
    assert any("crashed" in t["output"] and "exited with code 0" in t["output"] for t in crash["tests"])
    hog = graded["graded"]["memory_hog"].results      # stopped by whichever limit comes first
    assert any("memory" in t["output"] or "timed out after 1 s in receptive_field" in t["output"]
               for t in hog["tests"])
    exited = graded["graded"]["exit_at_import"].results
    assert "SystemExit" in exited["output"]


def test_no_process_of_a_submission_survives(graded):
    assert graded["alive"] == []
    assert not graded["heartbeat_growing"]


def test_no_network(graded):
    assert graded["accepted"] == 0


def test_grader_tree_unchanged_and_nothing_written_outside(graded):
    assert graded["after"] == graded["before"]
    assert not Path("/pwned-by-student.txt").exists()
    assert not Path("/root/pwned-by-student.txt").exists()


def test_hidden_tests_never_appear_in_any_output(graded):
    hidden_lines = set()
    for path in registry.get("a1_cnn").suite_dir.rglob("test_*.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if line.startswith(("def test_", "assert_close(", "expected =", "with student.forbid")):
                hidden_lines.add(line)
    assert hidden_lines
    outputs = [p for p in graded["out"].rglob("*") if p.is_file()]
    assert any(p.name == "student_output.txt" for p in outputs)      # the floods were captured
    for path in outputs:
        text = path.read_text(errors="replace")
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{path.name} contains hidden test text: {leaked[:2]}"


def test_student_output_is_truncated(graded):
    printed = graded["out"] / "stdout_flood" / "student_output.txt"
    assert printed.exists() and printed.stat().st_size <= 64 * 1024


def test_a_fresh_worker_takes_over_after_a_timeout(tmp_path):
    module = tmp_path / "a1_cnn.py"
    module.write_text("import time\n"
                      "def conv2d(x, w, *a, **k):\n"
                      "    time.sleep(60)\n"
                      "def receptive_field(x):\n"
                      "    return x\n")
    worker = make_worker(module, registry.get("a1_cnn"), timeout=1.0)
    try:
        with pytest.raises(StudentTimeout, match="timed out after 1 s in conv2d"):
            worker.conv2d(torch.ones(2), torch.ones(1))
        first = worker.generation
        assert torch.equal(worker.receptive_field(-torch.ones(2)), -torch.ones(2))
        assert worker.generation == first + 1
        started = time.monotonic()               # a function that timed out fails at once afterwards
        with pytest.raises(StudentCodeError, match="timed out after 1 s in conv2d earlier"):
            worker.conv2d(torch.ones(2), torch.ones(1))
        assert time.monotonic() - started < 0.5
    finally:
        worker.close()


def test_memory_limit_stops_a_hog(tmp_path):
    worker = make_worker(CORPUS / "memory_hog.py", registry.get("a1_cnn"), timeout=60.0,
                         limits={"memory_mb": 2048})
    try:
        with pytest.raises(Exception, match="MemoryError: the memory limit was exceeded"):
            worker.receptive_field([(3, 1)])
        assert worker.conv_output_size(5, 3) is None       # the same worker goes on
    finally:
        worker.close()


def test_results_come_back_without_unpickling(tmp_path):
    """A worker that returns an object which would run code when unpickled gets a clear
    'cannot read' failure, and nothing runs in the grader."""
    module = tmp_path / "a1_cnn.py"
    module.write_text("class Evil:\n"
                      "    def __reduce__(self):\n"
                      "        return (open, ('/tmp/evil-was-here', 'w'))\n"
                      "def conv2d(*a, **k):\n    return Evil()\n")
    worker = make_worker(module, registry.get("a1_cnn"), timeout=5.0)
    try:
        with pytest.raises(Exception, match="cannot read|returned a value"):
            worker.conv2d(torch.ones(1), torch.ones(1))
        assert not Path("/tmp/evil-was-here").exists()
    finally:
        worker.close()


def test_file_size_and_process_limits(tmp_path):
    module = tmp_path / "a1_cnn.py"
    module.write_text("import os, time\n"
                      "def conv_output_size(*a, **k):\n"
                      "    with open('big.bin', 'wb') as fh:\n"
                      "        for _ in range(64):\n"
                      "            fh.write(b'x' * (1 << 20))\n"
                      "    return 0\n"
                      "def receptive_field(*a, **k):\n"
                      "    made = 0\n"
                      "    for _ in range(100):\n"
                      "        try:\n"
                      "            pid = os.fork()\n"
                      "        except OSError:\n"
                      "            break\n"
                      "        if pid == 0:\n"
                      "            time.sleep(20)\n"
                      "            os._exit(0)\n"
                      "        made += 1\n"
                      "    return made\n")
    worker = make_worker(module, registry.get("a1_cnn"), timeout=20.0, limits={"file_mb": 1, "nproc": 40})
    try:
        with pytest.raises(StudentRaised, match="File too large"):
            worker.conv_output_size(5, 3)
        made = worker.receptive_field([(3, 1)])
        assert 0 < made < 40                   # refused well before the 100 it asked for
        uid = worker.worker.confinement.uid
    finally:
        worker.close()
    assert not [p for p in processes_matching("no-such-marker") if f"uid={uid} " in p]   # children died too


def test_torch_lazy_imports_and_tempfile_work_in_the_sandbox(tmp_path):
    """An optimizer's first use imports torch._dynamo lazily (the zygote does not import it:
    its start is on every batch's path), and torch keeps a cache folder under the temporary
    folder: both must work in a confined worker, whose temporary folder is its own (the
    zygote's, cached by the tempfile module, is its read-only library)."""
    module = tmp_path / "a1_cnn.py"
    module.write_text("import tempfile, torch\n"
                      "def conv_output_size(*a, **k):\n"
                      "    p = torch.nn.Parameter(torch.ones(2))\n"
                      "    opt = torch.optim.SGD([p], lr=0.5)\n"
                      "    p.sum().backward()\n"
                      "    opt.step()\n"
                      "    return p.detach()\n"
                      "def receptive_field(*a, **k):\n"
                      "    with tempfile.NamedTemporaryFile('w', suffix='.txt') as fh:\n"
                      "        fh.write('scratch')\n"
                      "        fh.flush()\n"
                      "        return fh.name\n")
    worker = make_worker(module, registry.get("a1_cnn"), timeout=60.0)
    try:
        assert torch.equal(worker.conv_output_size(5, 3), torch.full((2,), 0.5))
        name = worker.receptive_field([(3, 1)])
        assert isinstance(name, str) and name.startswith(str(worker.worker.base) + "/") and name.endswith(".txt")
    finally:
        worker.close()
