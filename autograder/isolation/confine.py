"""Everything a worker starts, as one unit: freeze it, thaw it, charge its CPU time, kill it.

As root the grader gives every worker cgroups of its own (cgroup v2 where it is
mounted writable, else v1's ``freezer`` + ``cpuacct``): the worker joins them before it
confines itself, and every process it starts stays in them, whatever it does
(``setsid``, double forks).  So the grader can

* freeze every process of a student while the reference is being timed (a submission
  cannot keep busy-looping helpers running to slow the reference down);
* charge a timed call the CPU time of the student's whole process tree (robust to a
  busy machine, and helpers that run in parallel are charged too);
* kill everything the student started, and then remove the cgroups.

Without cgroups (not root, or a platform that hides them) the fallback is the worker's
own uid (as root): SIGSTOP/SIGCONT/SIGKILL to every process of that uid; without root
only the worker's process group (best effort; see the README).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "dl-autograder"


def _v2_base() -> Path | None:
    for candidate in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        if (candidate / "cgroup.procs").exists() and (candidate / "cgroup.controllers").exists():
            return candidate
    return None


def _writable(path: Path) -> bool:
    try:
        path.mkdir(exist_ok=True)
        probe = path / f"probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


def backend() -> str:
    """'v1', 'v2' or 'none' (checked once per process)."""
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = "none"
        if os.geteuid() == 0:
            v1 = [CGROUP_ROOT / c for c in ("freezer", "cpuacct")]
            base = _v2_base()
            if all((c / "cgroup.procs").exists() for c in v1) and all(_writable(c / GROUP) for c in v1):
                _BACKEND = "v1"
            elif base is not None and _writable(base / GROUP):
                probe = base / GROUP / f"probe-{uuid.uuid4().hex[:8]}"
                with contextlib.suppress(OSError):
                    probe.mkdir()
                    if (probe / "cgroup.freeze").exists() and (probe / "cpu.stat").exists():
                        _BACKEND = "v2"
                    probe.rmdir()
    return _BACKEND


_BACKEND: str | None = None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _pids(procs_file: Path) -> list[int]:
    return [int(p) for p in _read(procs_file).split()]


_SETPRIV, _KILL = shutil.which("setpriv"), shutil.which("kill")


def signal_uid(uid: int, sig: int) -> None:
    """Send ``sig`` to every process running as ``uid`` (a uid that belongs to one worker):
    ``kill(-1)`` as that uid, which the kernel applies atomically (no fork escapes it)."""
    if _SETPRIV and _KILL:
        # util-linux's setpriv, exec'd through vfork: a fork of a grading process (torch and
        # pytest imported) copies its page tables, about 4x slower
        with contextlib.suppress(OSError):
            subprocess.run([_SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", _KILL,
                            f"-{int(sig)}", "--", "-1"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True, check=False)
            return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, sig)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


class Confinement:
    """The processes of one worker.  ``procs_files()`` go into the worker's config."""

    def __init__(self, run_id: str, uid: int | None, *, name: str | None = None):
        self.uid = uid
        self.kind = backend() if uid is not None or name is not None else "none"
        self.name = name or f"{run_id}-{uuid.uuid4().hex[:8]}"
        if self.kind == "v1":
            self.dirs = [CGROUP_ROOT / ctrl / GROUP / self.name for ctrl in ("freezer", "cpuacct")]
        elif self.kind == "v2":
            self.dirs = [_v2_base() / GROUP / self.name]
        else:
            self.dirs = []
        if name is None:
            for d in self.dirs:
                d.mkdir(parents=True, exist_ok=True)
        self.dirs = [d for d in self.dirs if d.exists()]
        self.pid: int | None = None            # the worker's own process (fallback without uid)
        self.killed = False

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    @property
    def measures_cpu(self) -> bool:
        return self.kind in ("v1", "v2")

    def cpu_seconds(self) -> float | None:
        """CPU time of every process this worker ever ran (exited ones included)."""
        if self.kind == "v1":
            text = _read(self.dirs[1] / "cpuacct.usage").strip()
            return int(text) / 1e9 if text else None
        if self.kind == "v2":
            for line in _read(self.dirs[0] / "cpu.stat").splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
        return None

    def _freeze_v1(self, state: str) -> None:
        (self.dirs[0] / "freezer.state").write_text(state)

    def freeze(self) -> None:
        with contextlib.suppress(OSError):
            if self.kind == "v1":
                self._freeze_v1("FROZEN")
                deadline = time.monotonic() + 2.0
                while _read(self.dirs[0] / "freezer.state").strip() == "FREEZING" and time.monotonic() < deadline:
                    time.sleep(0.001)
                return
            if self.kind == "v2":
                (self.dirs[0] / "cgroup.freeze").write_text("1")
                return
        if self.uid is not None:
            signal_uid(self.uid, signal.SIGSTOP)

    def thaw(self) -> None:
        with contextlib.suppress(OSError):
            if self.kind == "v1":
                self._freeze_v1("THAWED")
                return
            if self.kind == "v2":
                (self.dirs[0] / "cgroup.freeze").write_text("0")
                return
        if self.uid is not None:
            signal_uid(self.uid, signal.SIGCONT)

    @contextlib.contextmanager
    def frozen(self):
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    def kill(self) -> None:
        """Kill every process of this worker, however it detached itself."""
        self.killed = True
        if self.kind == "v2":
            with contextlib.suppress(OSError):
                (self.dirs[0] / "cgroup.kill").write_text("1")
        if self.kind == "v1":
            procs = self.dirs[0] / "cgroup.procs"
            for _ in range(50):
                pids = _pids(procs)
                if not pids:
                    break
                with contextlib.suppress(OSError):
                    self._freeze_v1("FROZEN")     # no forking while we kill
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    self._freeze_v1("THAWED")     # frozen tasks die only once thawed
                time.sleep(0.01)
        if self.uid is not None:
            signal_uid(self.uid, signal.SIGKILL)
        elif self.pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)

    def empty(self) -> bool:
        return all(not _pids(d / "cgroup.procs") for d in self.dirs)

    def remove(self) -> None:
        if not (self.killed and self.empty()):
            self.kill()           # (once killed, with an empty cgroup, nothing of the uid is left to signal)
        deadline = time.monotonic() + 5.0
        for d in self.dirs:
            while d.exists():
                try:
                    d.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
        self.dirs = [d for d in self.dirs if d.exists()]


def sweep(run_id: str) -> None:
    """Kill and remove every cgroup left by the workers of one grading run (the engine
    calls it after a submission, whatever happened to the grading process)."""
    kind = backend()
    if kind == "none":
        return
    base = CGROUP_ROOT / "freezer" / GROUP if kind == "v1" else _v2_base() / GROUP
    for d in sorted(base.glob(f"{run_id}-*")) if base.is_dir() else []:
        Confinement(run_id, None, name=d.name).remove()


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Without namespaces, orphans of a worker are re-parented to us, so we can reap them."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(live: set[int]) -> None:
    """Without namespaces: kill and reap processes re-parented to us (we are a child
    subreaper), leftovers of a killed worker."""
    me = os.getpid()
    orphans = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in live:
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)
            orphans.append(int(entry))
    deadline = time.monotonic() + 2.0
    while orphans and time.monotonic() < deadline:
        for pid in list(orphans):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                orphans.remove(pid)
        if orphans:
            time.sleep(0.01)
