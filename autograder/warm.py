"""The warm grader: one long-lived trusted process per batch and assignment.

The warm process imports torch, pytest, hypothesis, the plugin and the assignment's hidden
suite once, starts one zygote, and then grades submission after submission by forking a
fresh grading child for each: no state passes from one student to the next (the child
exits; the workers forked for it are killed), and the fixed cost of a submission becomes
a fork instead of two Python start-ups that import torch.

A batch with ``--jobs N`` runs N lanes (:class:`WarmSlot`) on one warm process: each lane
grades one submission at a time in a child pinned to the lane's own CPU (its workers pin
themselves to it too), so the timed rounds of one submission are not disturbed by
another's, and N lanes cost one warm-up, not N.

Each grading child talks to the zygote over a connection of its own, attached before the
child starts; when the child is done the warm process asks the zygote to kill every
worker forked on that connection, and only then reports the child's exit.

Protocol on the warm process's stdin/stdout, one JSON object per line, ``id`` chosen by
the engine: ``{"id", "cpu", "spec": path, "run_root": dir}`` (grade) or ``{"id", "cpu",
"load": [id, submission, target, lang], "reply": path}`` (materialize and check,
autograder/loading.py) -> ``{"id", "pid": child}`` then ``{"id", "rc": code}``.  Loading
in a child of the warm process keeps a batch's work on its lanes' pinned cores (no loader
process competes with another lane's timed rounds) and costs a fork.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder import ROOT

PR_SET_PDEATHSIG = 1


class WarmServer:
    """The engine's handle on one warm process, shared by the lanes of a batch."""

    def __init__(self, assignment_id: str):
        self.assignment_id = assignment_id
        self.proc: subprocess.Popen | None = None
        self.scratch: str | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._waiting: dict[int, queue.Queue] = {}

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with self._lock:
            if not self.alive:
                self._start()

    def _start(self) -> None:
        import tempfile
        self.close_locked()
        self.scratch = tempfile.mkdtemp(prefix="ag-slot-")     # the zygote's private copy lives here
        from autograder.engine import GRADING_ENV
        env = {**os.environ, **GRADING_ENV, "TMPDIR": self.scratch}
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.warm", self.assignment_id],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1, start_new_session=True)
        self._waiting = {}                       # this process's requests: its reader answers them
        threading.Thread(target=self._replies, args=(self.proc, self._waiting), daemon=True).start()

    @staticmethod
    def _replies(proc: subprocess.Popen, waiting: dict[int, queue.Queue]) -> None:
        for line in proc.stdout:
            try:
                reply = json.loads(line)
                waiting[reply["id"]].put(reply)
            except (ValueError, KeyError, TypeError):
                continue
        for answers in list(waiting.values()):
            answers.put(None)                    # the warm process is gone

    def request(self, request: dict, timeout: float) -> int:
        """Run one request in a fresh child; its exit code.  Past ``timeout`` the child (and
        its workers) are killed and :class:`TimeoutError` is raised."""
        from autograder.engine import GraderError
        deadline = time.monotonic() + timeout
        answers: queue.Queue = queue.Queue()
        with self._lock:
            if not self.alive:
                self._start()
            key, waiting = next(self._ids), self._waiting
            waiting[key] = answers
            try:
                self.proc.stdin.write(json.dumps({**request, "id": key}) + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError) as exc:
                waiting.pop(key, None)
                raise GraderError(f"the warm grader failed to start a run ({type(exc).__name__})") from None
        try:
            try:
                child = self._next(answers, deadline)["pid"]
            except TimeoutError:
                self.close()             # it cannot even fork: a fresh one for the next request
                raise GraderError("the warm grader did not start the run in time") from None
            try:
                return self._next(answers, deadline)["rc"]
            except TimeoutError:
                with_kill(child)
                self._next(answers, time.monotonic() + 30)      # reaped, its workers killed
                raise
        except (KeyError, TypeError):
            raise GraderError("the warm grader died") from None
        finally:
            waiting.pop(key, None)

    @staticmethod
    def _next(answers: queue.Queue, deadline: float) -> dict:
        try:
            reply = answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError from None
        if reply is None:
            raise KeyError("gone")
        return reply

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def close_locked(self) -> None:
        """Kill the warm process (its grading children and zygote die with it: PDEATHSIG)."""
        if self.proc is not None:
            with_kill(self.proc.pid)
            self.proc.wait()
            self.proc = None
        if self.scratch:
            import shutil
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


class WarmSlot:
    """One lane of a batch: grades one submission at a time on ``cpu`` (None: unpinned).
    Lanes given the same ``server`` share its warm process; without one, the lane starts
    (and closes) a warm process of its own."""

    def __init__(self, assignment_id: str, index: int = 0, cpu: int | None = None,
                 server: WarmServer | None = None):
        self.assignment_id, self.index, self.cpu = assignment_id, index, cpu
        self.server = server or WarmServer(assignment_id)
        self._own = server is None

    @property
    def alive(self) -> bool:
        return self.server.alive

    def start(self) -> None:
        self.server.start()

    def run(self, spec_path: Path, run_root: Path, timeout: float) -> int:
        """Grade one run spec in a fresh child; kill it past ``timeout``."""
        from autograder.engine import GraderError
        rc = self.server.request({"cpu": self.cpu, "spec": str(spec_path), "run_root": str(run_root)}, timeout)
        if rc not in (0, 1):
            raise GraderError(f"the grading process ended with status {rc}")
        return rc

    def load(self, assignment_id: str, submission: Path, target_dir: Path, lang: str | None,
             reply: Path, timeout: float) -> dict:
        """Materialize and check one submission in a fresh child (see autograder/loading.py):
        on the lane's own core, with no Python start-up to pay."""
        from autograder.engine import GraderError
        rc = self.server.request({"cpu": self.cpu, "load": [assignment_id, str(submission), str(target_dir),
                                                            lang or ""], "reply": str(reply)}, timeout)
        try:
            return json.loads(Path(reply).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise GraderError(f"the loading process ended with status {rc}") from None

    def close(self) -> None:
        """Closing any lane stops the warm process (a batch closes all of them at its end or on
        Ctrl-C; a later request starts a fresh one)."""
        self.server.close()


def with_kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


# ---- the warm process -----------------------------------------------------------------
def _warm_up(assignment_id: str) -> None:
    """Import everything a grading child needs, once."""
    import importlib

    from autograder.isolation.zygote import Zygote
    zygote = Zygote.get()              # first: it imports torch on the other core while we do
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401
    # torch imports sympy lazily on the first meta-tensor shape check (the suites' expected
    # output shapes); 0.3 s a submission if every child paid it
    import torch.fx.experimental.symbolic_shapes  # noqa: F401

    import autograder.plugin  # noqa: F401
    from autograder import loading, registry  # noqa: F401
    a = registry.get(assignment_id)
    for path in sorted(a.suite_dir.glob("*.py")):
        importlib.import_module(f"autograder.suites.{a.id}.{path.stem}")
    # hypothesis reads the source of every local module for constants on its first draw:
    # the modules imported here once, here (a child reads only what it imports later)
    with contextlib.suppress(Exception):
        from hypothesis.internal.conjecture.providers import _get_local_constants
        _get_local_constants()
    import gc
    gc.freeze()             # the warm objects stay out of the children's collections (and shared pages);
                            # no collection first: it finds ~50 unreachable objects and costs 70 ms
    zygote.status(os.getpid())                   # wait until the zygote answers (not its child: no reaping)


def _child_start() -> None:
    """In the forked child (already on its lane's core: the fork inherited it, see _fork)."""
    import ctypes
    os.setsid()
    signal.set_wakeup_fd(-1)                     # the warm process's child-exit wake-ups are not ours
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    with open(os.devnull, "r+b") as devnull:     # the protocol stream is the warm process's alone
        os.dup2(devnull.fileno(), 0)
        os.dup2(devnull.fileno(), 1)
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)     # die with the warm process


def _grade(spec_path: str, run_root: str) -> None:
    """In the forked child: one pytest session for one submission."""
    import pytest

    from autograder import registry
    from autograder.engine import limit_grader_memory, pytest_args
    from autograder.runspec import RunSpec
    os.environ["TMPDIR"] = run_root
    import tempfile
    tempfile.tempdir = run_root
    spec = RunSpec.read(Path(spec_path))
    limit_grader_memory(spec.device)
    rc = pytest.main(pytest_args(registry.get(spec.assignment), Path(spec_path)))
    os._exit(int(rc))


def _load(args: list[str], reply: str) -> None:
    """In the forked child: autograder/loading.py's job, without a Python start-up."""
    import resource

    from autograder import loading
    sys.dont_write_bytecode = True
    with open("/proc/self/status") as fh:          # the warm imports' address space, plus the loader's own
        size = next(int(line.split()[1]) << 10 for line in fh if line.startswith("VmSize:"))
    limit = size + (loading.MEMORY_MB << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    Path(reply).write_text(loading.load_json(*args), encoding="utf-8")
    os._exit(0)


def _fork(request: dict, zygote) -> tuple[int, object]:
    """Start one request's child; returns (pid, the zygote connection it was given or None)."""
    from autograder.isolation.zygote import Zygote
    from shared.tuning import on_cpu
    connection = zygote.attach() if "spec" in request else None
    on_cpu(request.get("cpu"))                   # the fork's work, and the child, on the lane's own core
    pid = os.fork()
    if pid == 0:
        try:
            _child_start()
            if connection is not None:
                Zygote.use(connection)
                _grade(request["spec"], request["run_root"])
            else:
                _load(request["load"], request["reply"])
        finally:
            os._exit(3)
    return pid, connection


def serve(out) -> None:
    """Answer requests from stdin, several at a time (one per lane), until stdin closes."""
    from autograder.isolation import confine
    from autograder.isolation.zygote import Zygote
    from autograder.runspec import RunSpec
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    running: dict[int, tuple] = {}              # pid -> (request id, zygote connection, run id)
    pending, stdin_open = b"", True

    def reply(message: dict) -> None:
        try:
            out.write(json.dumps(message) + "\n")
            out.flush()
        except (OSError, ValueError):
            pass            # the engine is gone (killed): the children in flight still end cleanly

    while stdin_open or running:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj == wake_r:
                os.read(wake_r, 4096)
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk:
                stdin_open = False
                selector.unregister(0)
                continue
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                run_id = RunSpec.read(Path(request["spec"])).run_id if "spec" in request else None
                pid, connection = _fork(request, Zygote.get())
                running[pid] = (request["id"], connection, run_id)
                reply({"id": request["id"], "pid": pid})
        for pid in list(running):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 255 << 8
            if not done:
                continue
            key, connection, run_id = running.pop(pid)
            if connection is not None:
                connection.kill_workers()        # nothing of this submission survives it,
                connection.close()
                confine.sweep(run_id)            # not even a worker frozen by a child that was killed
            reply({"id": key, "rc": os.waitstatus_to_exitcode(status)})


def main(argv: list[str]) -> None:
    from autograder.isolation.zygote import Zygote
    Zygote.get()             # its imports overlap ours
    from shared.tuning import keep_freed_memory
    keep_freed_memory()      # inherited by every grading child
    out = sys.stdout
    sys.stdout = sys.stderr                      # nothing but replies on the protocol stream
    _warm_up(argv[0])
    serve(out)


if __name__ == "__main__":
    main(sys.argv[1:])
