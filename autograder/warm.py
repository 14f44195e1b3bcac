"""The warm grader: one long-lived trusted process per job slot.

A slot imports torch, pytest, hypothesis, the plugin and the assignment's hidden suite
once, starts its zygote once, and then grades submission after submission by forking a
fresh grading child for each: no state passes from one student to the next (the child
exits; its workers are killed), and the fixed cost of a submission becomes a fork
instead of two Python start-ups that import torch.

Each slot is pinned to its own CPU (``--jobs`` slots on as many cores), so the timed
rounds of one submission are not disturbed by another's.

Protocol on the slot's stdin/stdout, one JSON object per line:
``{"spec": path, "run_root": dir}`` -> ``{"pid": child}`` then ``{"rc": code}``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder import ROOT


class WarmSlot:
    """The engine's handle on one slot process."""

    def __init__(self, assignment_id: str, index: int = 0, cpu: int | None = None):
        self.assignment_id, self.index, self.cpu = assignment_id, index, cpu
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import tempfile
        self.scratch = tempfile.mkdtemp(prefix="ag-slot-")     # the zygote's private copy lives here
        from autograder.engine import GRADING_ENV
        env = {**os.environ, **GRADING_ENV, "TMPDIR": self.scratch}
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.warm", self.assignment_id,
                                      "" if self.cpu is None else str(self.cpu)],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1, start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(self, spec_path: Path, run_root: Path, timeout: float) -> int:
        """Grade one run spec in a fresh child of the slot; kill it past ``timeout``."""
        from autograder.engine import GraderError
        if not self.alive:
            self.start()
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(json.dumps({"spec": str(spec_path), "run_root": str(run_root)}) + "\n")
            self.proc.stdin.flush()
            child = self._read(deadline)["pid"]
        except (OSError, ValueError, KeyError, TimeoutError) as exc:
            self.close()
            raise GraderError(f"the grading slot failed to start a run ({type(exc).__name__})") from None
        try:
            reply = self._read(deadline)
        except TimeoutError:
            with_kill(child)
            self.close()                 # the slot may be stuck waiting: start a fresh one next time
            raise
        except (OSError, ValueError) as exc:
            self.close()
            raise GraderError(f"the grading slot died ({type(exc).__name__})") from None
        rc = reply.get("rc")
        if rc not in (0, 1):
            raise GraderError(f"the grading process ended with status {rc}")
        return rc

    def _read(self, deadline: float) -> dict:
        import select
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    raise OSError("slot closed")
                return json.loads(line)
            if not self.alive:
                raise OSError("slot died")

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            self.proc = None
        if getattr(self, "scratch", None):
            import shutil
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def with_kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _warm_up(assignment_id: str) -> None:
    """Import everything a grading child needs, once."""
    import importlib

    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    import autograder.plugin  # noqa: F401
    from autograder import registry
    from autograder.isolation.zygote import Zygote
    a = registry.get(assignment_id)
    for path in sorted(a.suite_dir.glob("*.py")):
        importlib.import_module(f"autograder.suites.{a.id}.{path.stem}")
    Zygote.get()


def _grade(spec_path: str, run_root: str) -> None:
    """In the forked child: one pytest session for one submission."""
    import pytest

    from autograder import registry
    from autograder.engine import limit_grader_memory, pytest_args
    from autograder.runspec import RunSpec
    os.setsid()
    os.environ["TMPDIR"] = run_root
    import tempfile
    tempfile.tempdir = run_root
    spec = RunSpec.read(Path(spec_path))
    limit_grader_memory(spec.device)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
    rc = pytest.main(pytest_args(registry.get(spec.assignment), Path(spec_path)))
    os._exit(int(rc))


def main(argv: list[str]) -> None:
    assignment_id, cpu = argv[0], (int(argv[1]) if len(argv) > 1 and argv[1] else None)
    if cpu is not None:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass
    out = sys.stdout
    sys.stdout = sys.stderr                      # nothing but replies on the protocol stream
    _warm_up(assignment_id)
    import gc
    gc.collect()
    gc.freeze()             # the warm objects stay out of the children's collections (and shared pages)
    from autograder.isolation.zygote import Zygote
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _grade(request["spec"], request["run_root"])
            finally:
                os._exit(3)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        Zygote.get().kill_workers()              # nothing of this submission survives it
        out.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
