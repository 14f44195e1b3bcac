"""One running worker, seen from the grader: start it, talk to it with deadlines, kill it.

Every read and write has a deadline; every reply, call-back and error must carry the
id of the call it belongs to; anything else (a frame out of step, a malformed reply,
a call-back with arguments over the cap) ends the call with a clear message, and a
frame out of step also ends the worker.  On a timeout or a crash, every process of
the worker is killed (:mod:`.confine`) and its folder removed.

The details of a crash are shown to the student, in the run's language (this runs in the
grading process, whose language the plugin sets from the run spec).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils._pytree import tree_leaves, tree_map

from autograder import PACKAGE_DIR, ROOT
from autograder.isolation.confine import Confinement, become_subreaper
from autograder.isolation.zygote import BOOT_TIMEOUT, Zygote
from shared import protocol, wire
from shared.feedback import StudentCodeError, StudentCrashed, StudentTimeout
from shared.i18n import N_, _, add_domain

add_domain("autograder", PACKAGE_DIR / "locale")          # idempotent (autograder.results does it too)
WORKER_GONE = N_("the worker is gone")
# why a signal may have ended the worker, one message each
KILLED_BY = {"SIGKILL": N_("killed by {signal} (memory or process limit?)"),
             "SIGXCPU": N_("killed by {signal} (CPU time limit)"),
             "SIGXFSZ": N_("killed by {signal} (file size limit)"),
             "SIGSEGV": N_("killed by {signal} (segmentation fault)")}

OUTPUT_KEEP = 64 * 1024        # bytes of student stdout/stderr kept per worker
# A call-back's arguments (e.g. predict's rows): at most 4M values of a numeric dtype, so that
# the grader never converts or runs a model on more than ~32 MiB that a student chose to send
# (exact Shapley values of 16 features against 3 background rows need 3.1M).
CALLBACK_MAX_ELEMENTS = 1 << 22
# bool is allowed (masks for a substituted reference); the count cap is what bounds the grader.
CALLBACK_TORCH_DTYPES = {torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16,
                         torch.bfloat16, torch.float32, torch.float64}
CALLBACK_NUMPY_DTYPES = {np.dtype(n) for n in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                               "float32", "float64")}
_uid_counter = itertools.count()


def _check_callback_args(args) -> None:
    elements = 0
    for leaf in tree_leaves(args):
        if isinstance(leaf, (torch.Tensor, np.ndarray)):
            allowed = CALLBACK_TORCH_DTYPES if isinstance(leaf, torch.Tensor) else CALLBACK_NUMPY_DTYPES
            if leaf.dtype not in allowed:
                raise ValueError(_("the grader refused to call back with an array of dtype {dtype} (use float64 "
                                   "arrays, as the handout says)").format(dtype=leaf.dtype))
            elements += leaf.numel() if isinstance(leaf, torch.Tensor) else leaf.size
    if elements > CALLBACK_MAX_ELEMENTS:
        raise ValueError(_("the grader refused to call back with {n} values in one call (at most {limit}; batch "
                           "smaller)").format(n=elements, limit=CALLBACK_MAX_ELEMENTS))


class WorkerProcess:
    """A sandboxed worker forked from the zygote.  ``limits`` comes from the run spec."""

    def __init__(self, module_path: Path, module: str, *, limits: dict, slot: int, copy_folder: bool,
                 import_timeout: float):
        self.module_path, self.module = Path(module_path), module
        self.limits, self.slot, self.copy_folder = limits, slot, copy_folder
        self.import_timeout = import_timeout
        self.pid: int | None = None
        self.returncode: int | None = None
        self.zygote: Zygote | None = None
        self.base: Path | None = None
        self.confinement: Confinement | None = None
        self.chan: protocol.Channel | None = None
        self.output = bytearray()
        self.enforced: list[str] = []
        self.import_error: StudentCodeError | None = None
        self.handshaken = False
        self.callback_graphs: dict[int, tuple] = {}
        self._graph_ids = itertools.count(1)

    # ---- life cycle ------------------------------------------------------------------
    def _layout(self) -> Path:
        base = Path(tempfile.mkdtemp(prefix="ag-worker-"))
        os.chmod(base, 0o711)               # the worker's uid may pass through, not list
        work = base / "work"
        if self.copy_folder:
            shutil.copytree(self.module_path.parent, work, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "results.json"))
        else:
            work.mkdir()
            shutil.copy2(self.module_path, work / f"{self.module}.py")
        os.chmod(work, 0o700)
        self.base = base
        return work

    def spawn(self) -> None:
        """Fork the worker from the zygote; it confines itself and imports the student's
        module while we go on."""
        become_subreaper()
        work = self._layout()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        uid = None
        if os.geteuid() == 0 and self.limits.get("drop_privileges", True):
            uid = 200000 + (os.getpid() % 100000) * 8 + (self.slot * 2 + next(_uid_counter)) % 8
        self.confinement = Confinement(self.limits.get("run_id", "adhoc"), uid)
        if uid is not None:
            self.confinement.kill()                   # nothing left over from an earlier run
        device = self.limits.get("device", "cpu")
        memory_mb = self.limits.get("memory_mb", 4096)
        config = {
            "module": self.module, "workdir": str(work), "threads": self.limits.get("threads", 1),
            # CUDA reserves a huge virtual address space, so the address-space limit is CPU only.
            "memory_bytes": None if device == "cuda" or not memory_mb else int(memory_mb) << 20,
            "cpu_seconds": int(self.limits.get("cpu_seconds", 900)),
            "file_bytes": int(self.limits.get("file_mb", 64)) << 20,
            "nproc": int(self.limits.get("nproc", 256)), "uid": uid,
            "cgroups": self.confinement.procs_files(), "cpu": self.limits.get("cpu"),
            "hide": [str(p) for p in self.limits.get("hide", [])], "grader_root": str(ROOT),
            "needed": [str(self.zygote_lib())],
        }
        self.zygote = Zygote.get()
        try:
            self.pid = self.zygote.fork(config, [to_worker_r, from_worker_w, output_w])
        finally:
            for fd in (to_worker_r, from_worker_w, output_w):
                os.close(fd)
        self.confinement.pid = self.pid
        self.chan = protocol.Channel(from_worker_r, to_worker_w, nonblocking=True)
        threading.Thread(target=self._drain, args=(os.fdopen(output_r, "rb", buffering=0),), daemon=True).start()

    @staticmethod
    def zygote_lib() -> Path:
        return Zygote.get().lib

    def handshake(self) -> None:
        """Wait until the worker is confined and has imported the student's module."""
        if self.handshaken:
            return
        self.handshaken = True
        booted = self._read(0, time.monotonic() + BOOT_TIMEOUT, "starting the worker", time.monotonic())
        self.enforced = list(booted.get("booted", []))
        started = time.monotonic()
        try:
            reply = self._read(0, started + self.import_timeout, f"importing {self.module}.py", started)
        except StudentCodeError as exc:        # hung or died while importing: the module is broken
            self.import_error = exc
            return
        if "error" in reply:
            self.import_error = protocol.to_feedback(f"importing {self.module}.py", reply["error"], self.module)

    def _drain(self, stream) -> None:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            room = OUTPUT_KEEP - len(self.output)
            if room > 0:                     # keep the head; the rest is read and dropped
                self.output += chunk[:room]

    @property
    def alive(self) -> bool:
        if self.pid is None or self.returncode is not None:
            return False
        try:
            with open(f"/proc/{self.pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    def kill(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        if self.confinement is not None:
            self.confinement.kill()
        self._reap(wait=10)
        if self.chan is not None:
            self.chan.close()
            self.chan = None
        if self.confinement is not None:
            self.confinement.remove()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
        self.pid = None

    def _reap(self, wait: float) -> None:
        if self.returncode is None and self.zygote is not None and self.pid is not None:
            self.returncode = self.zygote.status(self.pid, wait)

    def stop(self) -> None:
        if self.alive and self.chan is not None:
            with contextlib.suppress(Exception):
                self.chan.send(pickle.dumps({"op": protocol.EXIT}), time.monotonic() + 2)
                self._reap(wait=2)
        self.kill()

    def exit_detail(self) -> str:
        if self.pid is None:
            return str(WORKER_GONE)
        self._reap(wait=2)
        code = self.returncode
        if code is None:
            return ""
        if code < 0:
            sig = signal.Signals(-code).name
            return str(KILLED_BY.get(sig) or N_("killed by {signal}")).format(signal=sig)
        return _("exited with code {code}").format(code=code)

    # ---- messages --------------------------------------------------------------------
    def send(self, message: dict, deadline: float, name: str) -> None:
        try:
            self.chan.send(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL), deadline, alive=lambda: self.alive)
        except protocol.Deadline:
            self.kill()
            raise StudentTimeout(name, self.limits.get("timeout", 10)) from None
        except (OSError, EOFError, AttributeError):
            detail = self.exit_detail()
            self.kill()
            raise StudentCrashed(name, detail or str(WORKER_GONE)) from None

    def _read(self, call_id: int, deadline: float, name: str, started: float) -> dict:
        try:
            data = self.chan.recv(deadline, alive=lambda: self.alive)
            reply = wire.loads(data)
            if not isinstance(reply, dict) or reply.get("id") != call_id:
                raise protocol.ProtocolError("a reply out of step")
            return reply
        except protocol.Deadline:
            self.kill()
            raise StudentTimeout(name, round(deadline - started, 1)) from None
        except protocol.ProtocolError as exc:
            self.kill()
            raise StudentCrashed(name, _("your code broke the grader's protocol ({detail}) and was stopped").format(
                detail=exc)) from None
        except wire.WireError as exc:
            # the stream is still in step: this call fails, the worker goes on
            raise StudentCrashed(name, _("the grader could not read what your code sent back ({detail})").format(
                detail=exc)) from None
        except (EOFError, OSError, AttributeError):
            detail = self.exit_detail()
            self.kill()
            raise StudentCrashed(name, detail or str(WORKER_GONE)) from None

    def request(self, message: dict, name: str, timeout: float, callbacks=()) -> dict:
        """Send one request and wait for its reply, serving call-backs meanwhile."""
        started = time.monotonic()
        deadline = started + timeout
        call_id = message["id"]
        self.send(message, deadline, name)
        while True:
            reply = self._read(call_id, deadline, name, started)
            if "callback_vjp" in reply:
                answer = self._callback_vjp(reply)
            elif "callback" in reply:
                answer = self._callback(reply, callbacks)
            else:
                return reply
            answer["id"] = call_id
            self.send(answer, deadline, name)

    def _callback_vjp(self, reply: dict) -> dict:
        """The backward pass through a call-back whose graph this process kept."""
        graph = self.callback_graphs.pop(reply.get("callback_vjp"), None)
        grads = reply.get("grads")
        if graph is None or not isinstance(grads, list):
            return {"op": protocol.CALLBACK_ERROR, "message": _("no such call-back graph")}
        inputs, outputs = graph
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(g, torch.Tensor) and o.requires_grad]
        if not pairs:
            return {"op": protocol.CALLBACK_RESULT, "value": [None] * len(inputs)}
        try:
            result = torch.autograd.grad([o for o, g in pairs], inputs, [g.to(o.dtype) for o, g in pairs],
                                         allow_unused=True)
        except Exception as exc:              # shapes the student's code sent back that do not fit
            return {"op": protocol.CALLBACK_ERROR, "message": f"{type(exc).__name__}: {str(exc)[:300]}"}
        return {"op": protocol.CALLBACK_RESULT, "value": [None if g is None else g.detach() for g in result]}

    def _callback(self, reply: dict, callbacks) -> dict:
        index = reply.get("callback")
        if type(index) is not int or not 0 <= index < len(callbacks):
            return {"op": protocol.CALLBACK_ERROR, "message": _("no such call-back")}
        args, kwargs = reply.get("args", ()), reply.get("kwargs", {})
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            return {"op": protocol.CALLBACK_ERROR, "message": _("malformed call-back arguments")}
        try:
            _check_callback_args((args, kwargs))
        except ValueError as exc:                   # the whole sentence, in the run's language
            return {"op": protocol.CALLBACK_ERROR, "message": str(exc)}
        leaves = tree_leaves((args, kwargs))
        gens = [g for g in leaves if isinstance(g, torch.Generator)]
        wanted = reply.get("grad_leaves") or []
        inputs = [leaves[i] for i in wanted if type(i) is int and 0 <= i < len(leaves)
                  and isinstance(leaves[i], torch.Tensor) and leaves[i].dtype.is_floating_point]
        try:
            for t in inputs:
                t.requires_grad_(True)
            with torch.set_grad_enabled(bool(inputs)):
                value = callbacks[index](*args, **kwargs)
        except Exception as exc:              # the trusted callable failed on what the student passed
            return {"op": protocol.CALLBACK_ERROR, "message": f"{type(exc).__name__}: {str(exc)[:300]}"}
        answer = {"op": protocol.CALLBACK_RESULT, "states": [g.get_state() for g in gens]}
        if inputs:
            key = next(self._graph_ids)
            self.callback_graphs[key] = (inputs, [t for t in tree_leaves(value) if isinstance(t, torch.Tensor)])
            while len(self.callback_graphs) > 64:
                self.callback_graphs.pop(next(iter(self.callback_graphs)))
            answer["graph"] = key
            value = tree_map(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, value)
        answer["value"] = value
        return answer


if sys.platform != "linux":                       # pragma: no cover
    raise ImportError("the isolated worker needs Linux")
