"""The trusted side of student isolation: ``WorkerStudent`` runs every student call in
a sandboxed worker process (see :mod:`autograder._worker_main`) and never unpickles
anything that comes back (replies are JSON plus raw buffers, see :mod:`shared.wire`).

It implements the same adapter interface as :class:`shared.adapter.InProcessStudent`,
so hidden suites do not know which one they talk to.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import io
import itertools
import json
import os
import pickle
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import numpy as np
import torch

from autograder import PACKAGE_DIR, ROOT
from autograder.registry import SUITES_DIR, Assignment
from shared import wire
from shared.adapter import Staged, describe_module, walk
from shared.feedback import (BadReturn, ForbiddenAPI, MissingFunction, NotImplementedYet, StudentCodeError,
                             StudentCrashed, StudentRaised, StudentTimeout)

MAX_REPLY = 1 << 31            # refuse absurd frames from the worker
OUTPUT_KEEP = 64 * 1024        # bytes of student stdout/stderr kept per worker
BOOT_TIMEOUT = 120.0           # importing torch on a loaded 2-core machine
PR_SET_CHILD_SUBREAPER = 36

# Paths no worker may read: the hidden suites, the solutions, the framework's tests,
# the examples (mutants and solutions live there in spirit) and the repository history.
HIDDEN_PATHS = [SUITES_DIR, ROOT / "solutions", ROOT / "tests", ROOT / "examples", ROOT / ".git"]

_LIVE: set[int] = set()        # pids of our live workers (not orphans to reap)
_uid_counter = itertools.count()


def _become_subreaper() -> None:
    """Orphans of a worker (double-forked children) are re-parented to us, so we can
    find and kill them even when they left the worker's process group."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans() -> None:
    """Kill and reap processes that were re-parented to us (we are a child subreaper):
    leftovers of a killed worker.  Waits briefly so that none stays behind as a zombie."""
    me = os.getpid()
    orphans = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in _LIVE:
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:         # our child, but not a live worker: an orphan
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


def _kill_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (only used for a uid that belongs to one worker)."""
    pid = os.fork()
    if pid == 0:                          # child: become that uid and signal everything it owns
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


class _CallbackRef:
    def __init__(self, index: int):
        self.index = index


class _ArgPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _CallbackRef):
            return ("callback", obj.index)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            return wire.reduce_tensor(obj)          # raw bytes instead of torch's storage pickling
        return NotImplemented


def _is_callback(obj) -> bool:
    return callable(obj) and not isinstance(obj, (type, torch.nn.Module, torch.Tensor, np.ndarray, np.ufunc,
                                                  types.BuiltinFunctionType, types.ModuleType))


def _prepare(obj, callbacks: list):
    """Arguments as the worker should see them: callables become call-backs into this
    process; tensors that require grad become leaves (the graph stays here)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().requires_grad_(True) if obj.requires_grad else obj
    if isinstance(obj, tuple):
        return tuple(_prepare(o, callbacks) for o in obj)
    if isinstance(obj, list):
        return [_prepare(o, callbacks) for o in obj]
    if isinstance(obj, dict):
        return {k: _prepare(v, callbacks) for k, v in obj.items()}
    if isinstance(obj, RemoteObject):
        raise TypeError("a student object cannot be passed as an argument")
    if _is_callback(obj):
        callbacks.append(obj)
        return _CallbackRef(len(callbacks) - 1)
    return obj


def _decode(value, modules):
    if isinstance(value, dict):
        if "__arg_module__" in value and len(value) == 1:
            return modules[value["__arg_module__"]]
        return {k: _decode(v, modules) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_decode(v, modules) for v in value)
    if isinstance(value, list):
        return [_decode(v, modules) for v in value]
    return value


def _replace_tensors(obj, replacements):
    if isinstance(obj, torch.Tensor):
        return next(replacements)
    if isinstance(obj, tuple):
        return tuple(_replace_tensors(o, replacements) for o in obj)
    if isinstance(obj, list):
        return [_replace_tensors(o, replacements) for o in obj]
    if isinstance(obj, dict):
        return {k: _replace_tensors(v, replacements) for k, v in obj.items()}
    return obj


class _RemoteCall(torch.autograd.Function):
    """Connects a worker call to this process' autograd graph: backward asks the worker
    for the vector-Jacobian product of the call it still holds."""

    @staticmethod
    def forward(ctx, run, *inputs):
        outputs, backward = run()
        ctx.remote_backward = backward
        nondiff = [o for o in outputs if not o.dtype.is_floating_point and not o.dtype.is_complex]
        if nondiff:
            ctx.mark_non_differentiable(*nondiff)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        result = ctx.remote_backward(list(grads))
        return (None, *result)


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class Zygote:
    """A process that has imported torch once and forks a worker per request, so that
    starting (and restarting) a worker costs a fork instead of a Python start-up.

    One per trusted process; workers are its children, sandboxed after the fork."""

    _instance: "Zygote | None" = None
    _lock = threading.Lock()

    def __init__(self):
        self.lib = Path(tempfile.mkdtemp(prefix="ag-lib-"))
        os.chmod(self.lib, 0o755)
        shutil.copy2(PACKAGE_DIR / "_worker_main.py", self.lib / "_worker_main.py")
        shutil.copytree(ROOT / "shared", self.lib / "shared", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for dirpath, _dirnames, filenames in os.walk(self.lib):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.lib), "TMPDIR": str(self.lib),
               "LANG": "C.UTF-8", "PYTHONPATH": str(self.lib), "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"):
            if key in os.environ:
                env[key] = os.environ[key]
        _become_subreaper()
        self.proc = subprocess.Popen(
            [sys.executable, "-s", str(self.lib / "_worker_main.py"),
             json.dumps({"zygote": True, "control_fd": theirs.fileno()})],
            cwd=self.lib, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.sock = ours
        _LIVE.add(self.proc.pid)
        atexit.register(shutil.rmtree, self.lib, True)

    @classmethod
    def get(cls) -> "Zygote":
        with cls._lock:
            if cls._instance is None or cls._instance.proc.poll() is not None:
                cls._instance = Zygote()
            return cls._instance

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
        return self._ask(config, fds)["pid"]

    def status(self, pid: int, wait: float = 0.0) -> int | None:
        try:
            return self._ask({"status": pid, "wait": wait})["status"]
        except (OSError, ValueError):
            return None


class WorkerProcess:
    """One running worker: start, request/reply with a deadline, kill."""

    def __init__(self, module_path: Path, assignment: Assignment, *, limits: dict, slot: int, copy_folder: bool):
        self.module_path = Path(module_path)
        self.assignment = assignment
        self.limits = limits
        self.slot = slot
        self.copy_folder = copy_folder
        self.pid: int | None = None
        self.returncode: int | None = None
        self.zygote: Zygote | None = None
        self.base: Path | None = None
        self.uid: int | None = None
        self.output = bytearray()
        self.enforced: list[str] = []
        self.import_error: StudentCodeError | None = None
        self.handshaken = False

    # ---- life cycle ----------------------------------------------------------
    def _layout(self) -> Path:
        base = Path(tempfile.mkdtemp(prefix="ag-worker-"))
        os.chmod(base, 0o711)               # the worker's uid may pass through, not list
        work = base / "work"
        if self.copy_folder:
            shutil.copytree(self.module_path.parent, work,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "results.json"))
        else:
            work.mkdir()
            shutil.copy2(self.module_path, work / f"{self.assignment.module}.py")
        os.chmod(work, 0o700)
        self.base = base
        return work

    def start(self) -> None:
        self.spawn()
        self.handshake()

    def spawn(self) -> None:
        """Fork the worker from the zygote; it sandboxes itself and imports the
        student's module while we go on."""
        work = self._layout()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        if os.geteuid() == 0 and self.limits.get("drop_privileges", True):
            self.uid = 200000 + (os.getpid() % 100000) * 8 + (self.slot * 2 + next(_uid_counter)) % 8
            _kill_uid(self.uid)                       # nothing left over from an earlier run
        device = self.limits.get("device", "cpu")
        memory_mb = self.limits.get("memory_mb", self.assignment.memory_mb)
        config = {
            "module": self.assignment.module,
            "workdir": str(work), "threads": self.limits.get("threads", self.assignment.threads),
            # CUDA reserves a huge virtual address space, so the address-space limit is CPU only.
            "memory_bytes": None if device == "cuda" or not memory_mb else int(memory_mb) << 20,
            "cpu_seconds": int(self.limits.get("cpu_seconds", 900)),
            "file_bytes": int(self.limits.get("file_mb", 64)) << 20,
            "nproc": int(self.limits.get("nproc", 256)),
            "uid": self.uid,
            "hide": [str(p) for p in HIDDEN_PATHS + [Path(p) for p in self.limits.get("hide", [])]],
            "grader_root": str(ROOT),
        }
        self.zygote = Zygote.get()
        try:
            self.pid = self.zygote.fork(config, [to_worker_r, from_worker_w, output_w])
        finally:
            for fd in (to_worker_r, from_worker_w, output_w):
                os.close(fd)
        _LIVE.add(self.pid)
        self.wfd, self.rfd = to_worker_w, from_worker_r
        threading.Thread(target=self._drain, args=(os.fdopen(output_r, "rb", buffering=0),), daemon=True).start()

    def handshake(self) -> None:
        """Wait until the worker is sandboxed and has imported the student's module."""
        if self.handshaken:
            return
        self.handshaken = True
        self._started_at = time.monotonic()
        booted = self._read(self._started_at + BOOT_TIMEOUT, "starting the worker")
        self.enforced = list(booted.get("booted", []))
        self._started_at = time.monotonic()
        try:
            reply = self._read(time.monotonic() + self.limits.get("timeout", self.assignment.timeout),
                               f"importing {self.assignment.module}.py")
        except StudentCodeError as exc:        # hung or died while importing: the module is broken
            self.import_error = exc
            return
        if "error" in reply:
            err = reply["error"]
            self.import_error = StudentRaised(f"importing {self.assignment.module}.py", err.get("type", "Error"),
                                              err.get("message", ""), err.get("where", ""))

    def _drain(self, stream) -> None:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            room = OUTPUT_KEEP - len(self.output)
            if room > 0:                     # keep the head; the rest is read and dropped
                self.output += chunk[:room]

    @property
    def alive(self) -> bool:
        return self.pid is not None and self.returncode is None and _pid_alive(self.pid)

    def kill(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.uid is not None:
            _kill_uid(self.uid)
        self._reap(wait=10)
        _LIVE.discard(self.pid)
        for fd in (self.wfd, self.rfd):
            with contextlib.suppress(OSError):
                os.close(fd)
        _reap_orphans()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
        self.pid = None

    def _reap(self, wait: float) -> None:
        if self.returncode is None and self.zygote is not None and self.pid is not None:
            self.returncode = self.zygote.status(self.pid, wait)

    def stop(self) -> None:
        if self.alive:
            with contextlib.suppress(Exception):
                self._write(("exit",))
                self._reap(wait=2)
        self.kill()

    # ---- framing -------------------------------------------------------------
    def _write(self, message) -> None:
        data = message if isinstance(message, bytes) else pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        frame = memoryview(struct.pack("<Q", len(data)) + data)
        while frame:
            n = os.write(self.wfd, frame)
            frame = frame[n:]

    def _read_exact(self, n: int, deadline: float, name: str) -> bytes:
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
            if not ready:
                if not self.alive:
                    raise EOFError
                continue
            chunk = os.read(self.rfd, min(n - got, 1 << 22))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _read(self, deadline: float, name: str) -> dict:
        try:
            (n,) = struct.unpack("<Q", self._read_exact(8, deadline, name))
            if n > MAX_REPLY:
                raise ValueError("reply too large")
            data = self._read_exact(n, deadline, name)
            reply = wire.loads(data)              # never unpickles: see shared/wire.py
            if not isinstance(reply, dict):
                raise ValueError("malformed reply")
            return reply
        except TimeoutError:
            seconds = round(deadline - getattr(self, "_started_at", deadline), 1)
            self.kill()
            raise StudentTimeout(name, seconds) from None
        except (EOFError, OSError, ValueError, TypeError, KeyError, IndexError, struct.error, RuntimeError) as exc:
            detail = self.exit_detail()
            self.kill()
            raise StudentCrashed(name, detail or f"unreadable reply ({type(exc).__name__})") from None

    def exit_detail(self) -> str:
        if self.pid is None:
            return "the worker is gone"
        self._reap(wait=2)
        code = self.returncode
        if code is None:
            return ""
        if code < 0:
            sig = signal.Signals(-code).name
            why = {"SIGKILL": " (memory or process limit?)", "SIGXCPU": " (CPU time limit)",
                   "SIGXFSZ": " (file size limit)", "SIGSEGV": " (segmentation fault)"}.get(sig, "")
            return f"killed by {sig}{why}"
        return f"exited with code {code}"

    def request(self, message, name: str, timeout: float, callbacks=()) -> dict:
        """Send one request and wait for its reply, serving call-backs meanwhile."""
        self._started_at = time.monotonic()
        deadline = self._started_at + timeout
        try:
            self._write(message)
        except OSError:
            detail = self.exit_detail()
            self.kill()
            raise StudentCrashed(name, detail or "the worker is gone") from None
        while True:
            reply = self._read(deadline, name)
            if "callback" not in reply:
                return reply
            index = reply["callback"]
            try:
                result = callbacks[index](*_decode(reply["args"], []), **_decode(reply["kwargs"], []))
                self._write(("callback_result", result))
            except Exception as exc:              # the trusted callable failed
                self._write(("callback_error", f"{type(exc).__name__}: {exc}"))


class RemoteObject:
    """A student object (e.g. an nn.Module built by ``student.Generator()``) that lives in
    the worker.  Supports the calls suites need; everything returned is data."""

    def __init__(self, owner: "WorkerStudent", obj_id: int, class_name: str, generation: int):
        self._owner, self._id, self.class_name, self._generation = owner, obj_id, class_name, generation

    def _method(self, method: str, *args, **kwargs):
        return self._owner._invoke((self._id, method), args, kwargs, self_obj=self)

    def __call__(self, *args, **kwargs):
        return self._method("__call__", *args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._method("forward", *args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True):
        return self._method("load_state_dict", dict(state_dict), strict=strict)

    def state_dict(self):
        return self._method("state_dict")

    def eval(self):
        self._method("eval")
        return self

    def train(self, mode: bool = True):
        self._method("train", mode)
        return self

    def to(self, *args, **kwargs):
        self._method("to", *args, **kwargs)
        return self

    def __repr__(self):
        return f"<student {self.class_name} in worker>"


class WorkerStudent:
    """The adapter used when grading: same interface as ``InProcessStudent``."""

    kind = "worker"

    def __init__(self, path: Path, assignment: Assignment, *, timeout: float | None = None,
                 limits: dict | None = None, trusted: bool = False):
        self.path = Path(path)
        self.assignment = assignment
        self.module_name = assignment.module
        self.timeout = timeout or assignment.timeout
        self.limits = dict(limits or {})
        self.limits["timeout"] = self.timeout
        self.slot = 1 if trusted else 0
        resolved = self.path.resolve()
        self.copy_folder = not trusted and ROOT not in resolved.parents and resolved.name == f"{assignment.module}.py"
        self.worker: WorkerProcess | None = None
        self.generation = 0
        self.restarts = 0
        self.output_log = bytearray()
        self._ids = itertools.count(1)

    # ---- worker management ---------------------------------------------------
    def prestart(self) -> None:
        """Start the zygote now, so that importing torch there overlaps other work."""
        Zygote.get()

    def _ensure(self) -> WorkerProcess:
        # A module that cannot be imported (raises, exits, hangs) fails every call the
        # same way: it is not imported again for each test.
        if self.worker is not None and self.worker.import_error is not None:
            raise self.worker.import_error
        if self.worker is not None and self.worker.alive and not getattr(self.worker, "handshaken", True):
            self.worker.handshake()
        if self.worker is None or not self.worker.alive:
            if self.worker is not None:
                self._collect_output(self.worker)
                self.worker.kill()
                self.restarts += 1
            self.generation += 1
            self.worker = WorkerProcess(self.path, self.assignment, limits=self.limits, slot=self.slot,
                                        copy_folder=self.copy_folder)
            self.worker.start()
        if self.worker.import_error is not None:
            raise self.worker.import_error
        return self.worker

    def _collect_output(self, worker: WorkerProcess) -> None:
        room = OUTPUT_KEEP - len(self.output_log)
        if room > 0:
            self.output_log += worker.output[:room]

    def import_problem(self) -> str | None:
        try:
            self._ensure()
        except StudentCodeError as exc:
            return str(exc)
        return None

    def captured_output(self) -> str:
        data = bytes(self.output_log) + (bytes(self.worker.output) if self.worker else b"")
        return data[:OUTPUT_KEEP].decode("utf-8", "replace")

    def enforced(self) -> list[str]:
        with contextlib.suppress(StudentCodeError):
            return self._ensure().enforced
        return []

    def close(self) -> None:
        if self.worker is not None:
            self._collect_output(self.worker)
            self.worker.stop()
            self.worker = None

    # ---- calls ---------------------------------------------------------------
    def _raise(self, reply: dict, name: str):
        err = reply["error"]
        kind = err.get("kind")
        if kind == "missing":
            raise MissingFunction(name, self.module_name)
        if kind == "notimpl":
            raise NotImplementedYet(name, err.get("message", ""))
        if kind == "forbidden":
            raise ForbiddenAPI(name, err.get("api") or err.get("message", ""))
        if kind == "badreturn":
            raise BadReturn(name, err.get("message", ""))
        if kind == "memory":
            raise StudentRaised(name, "MemoryError", "the memory limit was exceeded", err.get("where", ""))
        if kind == "raised":
            raise StudentRaised(name, err.get("type", "Error"), err.get("message", ""), err.get("where", ""))
        raise StudentCrashed(name, err.get("message", "protocol error"))

    def _blob(self, args, kwargs, callbacks):
        buf = io.BytesIO()
        _ArgPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump((_prepare(args, callbacks), _prepare(kwargs, callbacks)))
        return buf.getvalue()

    def _invoke(self, spec, args, kwargs, *, new: bool = False, self_obj: RemoteObject | None = None):
        name = spec if isinstance(spec, str) else f"{self_obj.class_name}.{spec[1]}"
        if self_obj is not None and self_obj._generation != self.generation:
            raise StudentCrashed(name, "this object was lost when your code was restarted after an earlier failure")
        worker = self._ensure()
        inplace = isinstance(spec, str) and spec in self.assignment.functions  # transitional: every function may change its arguments
        grad_inputs = [t for t in walk((args, kwargs), torch.Tensor, []) if t.requires_grad]
        grad = bool(grad_inputs) and torch.is_grad_enabled()
        callbacks: list = []
        blob = self._blob(args, kwargs, callbacks)
        call_id = next(self._ids)
        message = ("call", call_id, spec, blob, {"grad": grad, "inplace": inplace, "new": new})
        modules = ([self_obj] if self_obj is not None else []) + walk((args, kwargs), torch.nn.Module, [])
        generation = self.generation

        def run():
            reply = worker.request(message, name, self.timeout, callbacks)
            if "error" in reply:
                self._raise(reply, name)
            return reply

        if not grad:
            reply = run()
            if new:
                value = reply["value"]
                return RemoteObject(self, value["__object__"], value.get("class", spec), generation)
            if inplace:
                self._write_back(args, kwargs, reply)
            return _decode(reply.get("value"), modules)

        holder = {}

        def forward():
            reply = run()
            value = _decode(reply.get("value"), modules)
            holder["value"] = value
            outputs = walk(value, torch.Tensor, [])

            def backward(grads):
                if self.generation != generation or self.worker is not worker:
                    raise StudentCrashed(name, "the worker restarted before backward")
                wire = [None if g is None else g.detach() for g in grads]
                back = worker.request(("backward", call_id, wire), f"backward of {name}", self.timeout)
                if "error" in back:
                    err = back["error"]
                    if err.get("type") == "RuntimeError" and "does not require grad" in err.get("message", ""):
                        raise StudentRaised(name, "RuntimeError",
                                            "your output is not connected to the inputs' autograd graph "
                                            "(did you use .detach(), .numpy(), .item() or torch.no_grad()?)")
                    self._raise(back, f"backward of {name}")
                return [g.to(t.device) if g is not None else None for g, t in zip(back["grads"], grad_inputs)]
            return outputs, backward

        outs = _RemoteCall.apply(forward, *grad_inputs)
        value = holder["value"]
        if inplace:
            self._write_back(args, kwargs, reply={})
        return _replace_tensors(value, iter(outs))

    def _write_back(self, args, kwargs, reply) -> None:
        with torch.no_grad():
            for orig, new in zip(walk((args, kwargs), torch.Tensor, []), reply.get("tensors", [])):
                if orig.shape == new.shape:
                    orig.copy_(new)
            for orig, state in zip(walk((args, kwargs), torch.nn.Module, []), reply.get("modules", [])):
                orig.load_state_dict(state)

    def has(self, name: str) -> bool:
        return name in self._names()

    def _names(self):
        return set(self.assignment.functions) | set(self.assignment.classes)

    def call(self, name: str, *args, **kwargs):
        return self._invoke(name, args, kwargs, new=name in self.assignment.classes)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.call, name)

    @contextlib.contextmanager
    def forbid(self, fn_name: str, *apis: str):
        worker = self._ensure()
        reply = worker.request(("forbid_on", fn_name, list(apis)), fn_name, self.timeout)
        if "error" in reply:
            self._raise(reply, fn_name)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            if self.worker is worker and worker.alive:
                off = worker.request(("forbid_off",), fn_name, self.timeout)
                called = off.get("value") or []
                if called and not failed:
                    raise ForbiddenAPI(fn_name, called[0])

    def describe(self, obj):
        if isinstance(obj, RemoteObject):
            worker = self._ensure()
            reply = worker.request(("describe", obj._id), f"{obj.class_name}", self.timeout)
            if "error" in reply:
                self._raise(reply, obj.class_name)
            return [(n, c, {k: tuple(v) for k, v in p.items()}) for n, c, p in reply["value"]]
        return describe_module(obj)

    def stage(self, target, args: tuple = (), kwargs: dict | None = None) -> Staged:
        kwargs = kwargs or {}
        if isinstance(target, RemoteObject):
            spec, name = (target._id, "__call__"), target.class_name
        else:
            spec, name = target, target
        worker = self._ensure()
        callbacks: list = []
        stage_id = next(self._ids)
        reply = worker.request(("stage", stage_id, spec, self._blob(args, kwargs, callbacks)), name, self.timeout)
        if "error" in reply:
            self._raise(reply, name)

        def run(timeout):
            if self.worker is not worker or not worker.alive:
                raise StudentCrashed(name, "the worker restarted")
            reply = worker.request(("run_staged", stage_id), name, timeout or self.timeout, callbacks)
            if "error" in reply:
                self._raise(reply, name)
            return reply.get("value")

        def close():
            if self.worker is worker and worker.alive:
                with contextlib.suppress(StudentCodeError):
                    worker.request(("unstage", stage_id), name, self.timeout)
        return Staged(run, close)
