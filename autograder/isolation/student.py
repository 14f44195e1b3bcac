"""``WorkerStudent``: the adapter used when grading.  Same interface as
:class:`shared.adapter.InProcessStudent`, but every student call runs in a sandboxed
worker (:mod:`.process`) and nothing that comes back is unpickled.

Arguments go to the worker as pickles; callables among them (``predict``, a model, a
reference function substituted for one of the student's) stay here and are called
back; tensors that require grad become leaves there, and :class:`marshal.RemoteCall` connects
the call to this process' autograd graph (backward asks the worker for the
vector-Jacobian product).  Whatever the call changed among its arguments comes back and
is written into the caller's objects.
"""
from __future__ import annotations

import contextlib
import itertools
import time
from pathlib import Path

import torch
from torch.utils._pytree import tree_leaves, tree_map

from autograder import ROOT
from autograder.isolation.marshal import RemoteCall, decode_modules, pack_args, write_back
from autograder.isolation.confine import reap_orphans
from autograder.isolation.process import WorkerProcess
from shared import protocol
from shared.adapter import StudentAdapter
from shared.feedback import StudentCodeError, StudentCrashed
from shared.i18n import _

# The crash details below are shown to the student, in the run's language (the plugin sets it
# for this process; autograder.isolation.process registers the catalogue).

OUTPUT_KEEP = 64 * 1024


class RemoteObject:
    """A student object (e.g. an nn.Module built by ``student.Generator()``) that lives in
    the worker.  Supports the calls suites need; everything returned is data."""

    _is_remote_object = True

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


class WorkerTimer:
    """One side of a speed check in a worker: each round's arguments are unpickled there
    first (not timed: fresh objects every round), then the call runs; its cost is the CPU
    time of the worker's whole process tree when the confinement can tell, else wall time."""

    def __init__(self, owner: "WorkerStudent", target, args, kwargs):
        self.owner, self.args, self.kwargs = owner, args, kwargs
        if isinstance(target, RemoteObject):
            self.spec, self.name = [target._id, "__call__"], target.class_name
        else:
            self.spec, self.name = target, target
        self.worker = owner._ensure()

    def run(self, args, kwargs, timeout: float | None):
        owner, worker = self.owner, self.worker
        if owner.worker is not worker or not worker.alive:
            raise StudentCrashed(self.name, _("the worker restarted"))
        callbacks: list = []
        prep_id = next(owner._ids)
        blob = pack_args(args, kwargs, callbacks)
        patch = {}
        for fn_name, fn in owner._patches.items():
            callbacks.append(fn)
            patch[fn_name] = len(callbacks) - 1
        reply = worker.request({"op": protocol.PREPARE, "id": prep_id, "target": self.spec, "seed": owner._seed,
                                "args": blob, "patch": patch}, self.name, owner.timeout, callbacks)
        if "error" in reply:
            raise owner._error(reply, self.name)
        with owner.guard.running(self.name):
            # the kernel accounts a task's CPU time when it switches out: a round trip that the
            # worker answers after blocking makes sure every earlier cycle is counted
            self._sync(worker)
            cpu_before = worker.confinement.cpu_seconds() if worker.confinement else None
            started = time.perf_counter()
            reply = worker.request({"op": protocol.RUN, "id": prep_id}, self.name, timeout or owner.timeout,
                                   callbacks)
            wall = time.perf_counter() - started
            if "error" not in reply:
                self._sync(worker)
            cpu_after = worker.confinement.cpu_seconds() if worker.confinement else None
        if "error" in reply:
            raise owner._error(reply, self.name)
        seconds = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else wall
        return seconds, reply.get("value")

    def _sync(self, worker) -> None:
        if worker.confinement is not None and worker.confinement.measures_cpu:
            worker.request({"op": protocol.PING, "id": next(self.owner._ids)}, self.name, self.owner.timeout)

    def frozen(self):
        conf = self.worker.confinement
        return conf.frozen() if conf is not None else contextlib.nullcontext()

    def close(self) -> None:
        pass


class WorkerStudent(StudentAdapter):
    kind = "worker"

    def __init__(self, path: Path, *, module: str, functions, classes, timeout: float, limits: dict,
                 trusted: bool = False, **kwargs):
        super().__init__(module, timeout=timeout, **kwargs)
        self.path = Path(path)
        self.functions, self.classes = set(functions), set(classes)
        self.limits = dict(limits)
        self.limits["timeout"] = timeout
        self.slot = 1 if trusted else 0
        resolved = self.path.resolve()
        self.copy_folder = not trusted and ROOT not in resolved.parents and resolved.name == f"{module}.py"
        self.worker: WorkerProcess | None = None
        self.generation = 0
        self.output_log = bytearray()
        self._ids = itertools.count(1)

    # ---- the worker ------------------------------------------------------------------
    def prestart(self) -> None:
        """Start the worker now, so that importing torch and the student's module overlaps
        the collection of the tests."""
        if self.worker is None:
            self.generation += 1
            self.worker = WorkerProcess(self.path, self.module_name, limits=self.limits, slot=self.slot,
                                        copy_folder=self.copy_folder, import_timeout=self.timeout)
            self.worker.spawn()

    def _ensure(self) -> WorkerProcess:
        # A module that cannot be imported (raises, exits, hangs) fails every call the same
        # way: it is not imported again for each test.
        if self.worker is not None and self.worker.import_error is not None:
            raise self.worker.import_error
        if self.worker is not None and not self.worker.handshaken and self.worker.alive:
            with self.guard.running(f"importing {self.module_name}.py"):
                self.worker.handshake()
        elif self.worker is None or not self.worker.alive:
            if self.worker is not None:
                self._collect_output(self.worker)
                self.worker.kill()
                reap_orphans({self.worker.zygote.pid} if self.worker.zygote else set())
            self.guard.check(f"importing {self.module_name}.py")
            self.worker = None
            self.prestart()
            with self.guard.running(f"importing {self.module_name}.py"):
                self.worker.handshake()
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

    # ---- calls -----------------------------------------------------------------------
    def _error(self, reply: dict, name: str) -> StudentCodeError:
        err = reply.get("error")
        return protocol.to_feedback(name, err if isinstance(err, dict) else {}, self.module_name)

    def has(self, name: str) -> bool:
        return name in self.functions or name in self.classes

    def call(self, name: str, *args, **kwargs):
        return self._invoke(name, args, kwargs, new=name in self.classes)

    def _invoke(self, spec, args, kwargs, *, new: bool = False, self_obj: RemoteObject | None = None):
        name = spec if isinstance(spec, str) else f"{self_obj.class_name}.{spec[1]}"
        if self_obj is not None and self_obj._generation != self.generation:
            raise StudentCrashed(name, _("this object was lost when your code was restarted after an earlier "
                                         "failure"))
        self.guard.check(name)
        worker = self._ensure()
        leaves = tree_leaves((args, kwargs))
        grad_inputs = [t for t in leaves if isinstance(t, torch.Tensor) and t.requires_grad]
        grad = bool(grad_inputs) and torch.is_grad_enabled()
        callbacks: list = []
        blob = pack_args(args, kwargs, callbacks)
        patch = {}
        for fn_name, fn in self._patches.items():
            callbacks.append(fn)
            patch[fn_name] = len(callbacks) - 1
        call_id = next(self._ids)
        forbidding = self._forbidding
        message = {"op": protocol.CALL, "id": call_id, "target": list(spec) if not isinstance(spec, str) else spec,
                   "args": blob, "grad": grad, "new": new, "seed": self._seed, "patch": patch,
                   "trace": [list(forbidding.apis), list(forbidding.ops)] if forbidding is not None else None}
        modules = ([self_obj] if self_obj is not None else []) + [m for m in leaves if isinstance(m, torch.nn.Module)]
        generation = self.generation

        def run():
            with self.guard.running(name):
                reply = worker.request(message, name, self.timeout, callbacks)
            if "error" in reply:
                raise self._error(reply, name)
            if forbidding is not None and isinstance(reply.get("trace"), list):
                forbidding.hits |= {str(h)[:200] for h in reply["trace"]}
            write_back(leaves, reply.get("changed"))
            return reply

        if not grad:
            reply = run()
            if new:
                obj = reply.get("object")
                if not (isinstance(obj, list) and len(obj) == 2 and obj[0] == call_id):
                    raise StudentCrashed(name, _("the grader could not read what your code sent back"))
                return RemoteObject(self, call_id, str(obj[1])[:80], generation)
            return decode_modules(reply.get("value"), modules)

        holder = {}

        def forward():
            reply = run()
            value = decode_modules(reply.get("value"), modules)
            holder["value"] = value
            outputs = [t for t in tree_leaves(value) if isinstance(t, torch.Tensor)]

            def backward(grads):
                if self.generation != generation or self.worker is not worker:
                    raise StudentCrashed(name, _("the worker restarted before backward"))
                back_id = next(self._ids)
                back = worker.request({"op": protocol.BACKWARD, "id": back_id, "of": call_id,
                                       "grads": [None if g is None else g.detach() for g in grads]},
                                      f"backward of {name}", self.timeout)
                if "error" in back:
                    err = back["error"] if isinstance(back["error"], dict) else {}
                    if "does not require grad" in str(err.get("message", "")):
                        raise protocol.to_feedback(name, {
                            "kind": protocol.RAISED, "type": "RuntimeError",
                            "message": _("your output is not connected to the inputs' autograd graph (did "
                                         "you use .detach(), .numpy(), .item() or torch.no_grad()?)")})
                    raise self._error(back, f"backward of {name}")
                got = back.get("grads")
                if not isinstance(got, list) or len(got) != len(grad_inputs):
                    raise StudentCrashed(name, _("the grader could not read the gradients your code sent "
                                                 "back"))
                return [g.to(t.device) if isinstance(g, torch.Tensor) else None for g, t in zip(got, grad_inputs)]
            return outputs, backward

        outs = iter(RemoteCall.apply(forward, *grad_inputs))
        return tree_map(lambda leaf: next(outs) if isinstance(leaf, torch.Tensor) else leaf, holder["value"])

    def timer(self, target, args: tuple = (), kwargs: dict | None = None) -> WorkerTimer:
        return WorkerTimer(self, target, args, kwargs or {})
