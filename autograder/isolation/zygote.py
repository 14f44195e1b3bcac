"""The grader's handle on the zygote (see ``autograder/sandbox/zygote.py``).

The zygote runs from a private copy of ``autograder/sandbox`` (as the package
``agsandbox``) and of ``shared/``, made readable for the workers' uids; it never sees
the grader's tree, the hidden suites or the solutions.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from autograder import PACKAGE_DIR, ROOT

BOOT_TIMEOUT = 120.0           # importing torch on a loaded 2-core machine
SANDBOX_PACKAGE = "agsandbox"


def make_lib() -> Path:
    lib = Path(tempfile.mkdtemp(prefix="ag-lib-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE_DIR / "sandbox", lib / SANDBOX_PACKAGE, ignore=ignore)
    shutil.copytree(ROOT / "shared", lib / "shared", ignore=ignore)
    for dirpath, _dirnames, filenames in os.walk(lib):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    os.chmod(lib, 0o755)
    return lib


class Zygote:
    """One per trusted process (and per warm grading slot); workers are its children."""

    _instance: "Zygote | None" = None
    _lock = threading.Lock()

    def __init__(self):
        self.lib = make_lib()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.lib), "TMPDIR": str(self.lib),
               "LANG": "C.UTF-8", "PYTHONPATH": str(self.lib), "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"):
            if key in os.environ:
                env[key] = os.environ[key]
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-m", f"{SANDBOX_PACKAGE}.zygote", str(theirs.fileno())],
            cwd=self.lib, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        self.owner = os.getpid()
        atexit.register(self.close)

    @property
    def alive(self) -> bool:
        # not Popen.poll(): in a grading child forked from a warm server the zygote is
        # not our child, and poll() would call it dead
        try:
            with open(f"/proc/{self.pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    @classmethod
    def get(cls) -> "Zygote":
        with cls._lock:
            if cls._instance is None or not cls._instance.alive:
                cls._instance = Zygote()
            return cls._instance

    def attach(self) -> "Zygote":
        """A connection of its own to this zygote (for one grading process): the workers forked
        on it are killed by :meth:`kill_workers` on it, or when it closes."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._ask({"attach": True}, [theirs.fileno()])
        finally:
            theirs.close()
        connection = object.__new__(Zygote)
        connection.lib, connection.proc, connection.pid = self.lib, None, self.pid
        connection.sock, connection.owner = ours, None
        return connection

    @classmethod
    def use(cls, connection: "Zygote") -> None:
        """In a grading child: every worker of this process is forked through ``connection``."""
        cls._lock = threading.Lock()             # (a fresh process: nothing holds it)
        cls._instance = connection

    def kill_workers(self) -> None:
        """Kill every worker this zygote forked (a warm slot calls it after each submission)."""
        with contextlib.suppress(OSError, ValueError, KeyError):
            self._ask({"killall": True})

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        with self._lock:
            data = json.dumps(request).encode()
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.send(data)
            self.sock.settimeout(BOOT_TIMEOUT)
            reply = self.sock.recv(1 << 16)
        if not reply:
            raise OSError("the zygote is gone")
        return json.loads(reply)

    def fork(self, config: dict, fds: list[int]) -> int:
        return int(self._ask(config, fds)["pid"])

    def status(self, pid: int, wait: float = 0.0) -> int | None:
        try:
            return self._ask({"status": pid, "wait": wait})["status"]
        except (OSError, ValueError, KeyError):
            return None

    def close(self) -> None:
        if self.proc is None:                    # an attached connection: its workers die with it
            with contextlib.suppress(OSError):
                self.sock.close()
            return
        if os.getpid() != self.owner:
            return                       # a forked grading child: the zygote belongs to the server
        try:
            self.sock.close()
            self.proc.kill()
            self.proc.wait(5)
        except Exception:
            pass
        shutil.rmtree(self.lib, ignore_errors=True)
