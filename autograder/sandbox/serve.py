"""The worker's request loop: the only code that runs next to student code.

It imports the student's module (after :mod:`.jail` confined the process), then answers
the grader's requests (:mod:`shared.protocol`).  Results go back as :mod:`shared.wire`
data; every tensor, array, module state or generator state among the arguments that the
call changed goes back too (the grader writes it into its own copy, so in-place updates
are seen and "leaves its input unmodified" can be checked); callables that live in the
grader (``predict``, a model, or a reference function substituted for one of the
student's own) are called back.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
import pickle
import sys

import numpy as np
import torch
from torch.utils._pytree import tree_flatten, tree_leaves, tree_unflatten

from shared import protocol, wire
from shared.fingerprint import checksum
from shared.optrace import OpTrace
from shared.seeding import seed_everything


class OutOfStep(Exception):
    """The grader sent something this worker did not expect: stop."""


class Worker:
    def __init__(self, chan: protocol.Channel, module_name: str, student_file: str):
        self.chan, self.module_name, self.student_file = chan, module_name, student_file
        self.module = None
        self.objects: dict[int, object] = {}
        self.graphs: dict[int, tuple] = {}
        self.prepared: dict[int, tuple] = {}
        self.current_id = 0

    # ---- framing ---------------------------------------------------------------------
    def send(self, obj) -> None:
        try:
            data = wire.dumps(obj)
        except TypeError as exc:          # a result that is not data: say so, in step
            data = wire.dumps({"id": obj.get("id"), "error": {"kind": protocol.BADRETURN, "message": str(exc)}})
        self.chan.send(data)

    def recv(self) -> dict:
        msg = pickle.loads(self.chan.recv())
        if not isinstance(msg, dict) or "op" not in msg:
            raise OutOfStep("not a request")
        return msg

    def error(self, call_id, exc: BaseException) -> None:
        self.send({"id": call_id, "error": protocol.describe_error(exc, self.student_file)})

    # ---- arguments -------------------------------------------------------------------
    def load_args(self, blob: bytes, call_id: int):
        worker = self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                kind, index = pid
                if kind != "callback":
                    raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
                return Callback(worker, index)

        return Unpickler(io.BytesIO(blob)).load()

    def target(self, spec):
        if isinstance(spec, str):
            fn = getattr(self.module, spec, None)
            if fn is None or not callable(fn):
                raise LookupError(spec)
            return fn
        obj_id, method = spec
        obj = self.objects[obj_id]
        return obj if method == "__call__" else getattr(obj, method)

    # ---- requests --------------------------------------------------------------------
    def call(self, msg: dict) -> None:
        call_id, spec = msg["id"], msg["target"]
        try:
            fn = self.target(spec)
        except LookupError:
            self.send({"id": call_id, "error": {"kind": protocol.MISSING, "message": str(spec)}})
            return
        args, kwargs = self.load_args(msg["args"], call_id)
        leaves = tree_leaves((args, kwargs))
        before = [_digest(leaf) for leaf in leaves]
        modules = [leaf for leaf in leaves if isinstance(leaf, torch.nn.Module)]
        if not isinstance(spec, str):              # a method: returning the object itself is fine
            modules.insert(0, self.objects[spec[0]])
        patches = {name: Callback(self, index) for name, index in msg.get("patch", {}).items()}
        trace = OpTrace(*msg["trace"]) if msg.get("trace") else None
        seed_everything(msg.get("seed", 0))
        with _patched(self.module, patches), (trace or contextlib.nullcontext()), \
                torch.set_grad_enabled(bool(msg.get("grad")) or torch.is_grad_enabled()):
            result = fn(*args, **kwargs)
        reply = {"id": call_id, "ok": True}
        if msg.get("new"):
            self.objects[call_id] = result
            reply["object"] = [call_id, type(result).__name__]
        else:
            try:
                reply["value"] = encode(result, modules)
            except TypeError as exc:
                self.send({"id": call_id, "error": {"kind": protocol.BADRETURN, "message": str(exc)}})
                return
        reply["changed"] = [[i, _changed_value(leaf)] for i, (leaf, old) in enumerate(zip(leaves, before))
                            if old is not None and _digest(leaf) != old]
        if trace is not None:
            reply["trace"] = sorted(trace.hits)
        if msg.get("grad"):
            inputs = [t for t in leaves if isinstance(t, torch.Tensor) and t.requires_grad]
            self.graphs[call_id] = (inputs, [t for t in tree_leaves(result) if isinstance(t, torch.Tensor)])
            while len(self.graphs) > 16:
                self.graphs.pop(next(iter(self.graphs)))
        self.send(reply)

    def backward(self, msg: dict) -> None:
        inputs, outputs = self.graphs.pop(msg["of"])
        pairs = [(o, g) for o, g in zip(outputs, msg["grads"]) if g is not None and o.requires_grad]
        if not pairs or not inputs:
            self.send({"id": msg["id"], "ok": True, "grads": [None] * len(inputs)})
            return
        grads = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True)
        self.send({"id": msg["id"], "ok": True, "grads": [None if g is None else g.detach() for g in grads]})

    def prepare(self, msg: dict) -> None:
        try:
            fn = self.target(msg["target"])
        except LookupError:
            self.send({"id": msg["id"], "error": {"kind": protocol.MISSING, "message": str(msg["target"])}})
            return
        patches = {name: Callback(self, index) for name, index in msg.get("patch", {}).items()}
        self.prepared = {msg["id"]: (fn, *self.load_args(msg["args"], msg["id"]), msg.get("seed", 0), patches)}
        self.send({"id": msg["id"], "ok": True})

    def run(self, msg: dict) -> None:
        fn, args, kwargs, seed, patches = self.prepared.pop(msg["id"])
        seed_everything(seed)
        with _patched(self.module, patches):
            result = fn(*args, **kwargs)         # the grad mode of the correctness calls (enabled)
        # reading the fingerprint back also waits for asynchronous (CUDA) work to finish
        self.send({"id": msg["id"], "ok": True, "value": checksum(result)})

    def serve(self) -> None:
        handlers = {protocol.CALL: self.call, protocol.BACKWARD: self.backward, protocol.PREPARE: self.prepare,
                    protocol.RUN: self.run, protocol.PING: lambda msg: self.send({"id": msg["id"], "ok": True})}
        while True:
            _reap_children()
            try:
                msg = self.recv()
            except EOFError:
                os._exit(0)
            if msg["op"] == protocol.EXIT:
                os._exit(0)
            self.current_id = msg.get("id")
            handler = handlers.get(msg["op"])
            if handler is None:
                raise OutOfStep(f"unexpected request {msg['op']!r}")
            try:
                handler(msg)
            except OutOfStep:
                raise
            except BaseException as exc:   # SystemExit and KeyboardInterrupt from student code included
                self.error(msg.get("id"), exc)


class Callback:
    """Stands in for a callable that lives in the grader (``predict``, a model, or a
    reference function substituted for one of the student's).  When gradients must flow
    through it, the grader keeps the graph and answers the backward pass too."""

    def __init__(self, worker: "Worker", index: int):
        self.worker, self.index = worker, index

    def ask(self, message: dict) -> dict:
        call_id = self.worker.current_id
        self.worker.send({"id": call_id, **message})
        reply = self.worker.recv()
        if reply.get("id") != call_id or reply["op"] not in (protocol.CALLBACK_RESULT, protocol.CALLBACK_ERROR):
            raise OutOfStep("a reply to another call")
        if reply["op"] == protocol.CALLBACK_ERROR:
            raise RuntimeError(reply["message"])
        return reply

    def __call__(self, *args, **kwargs):
        leaves = tree_leaves((args, kwargs))
        gens = [g for g in leaves if isinstance(g, torch.Generator)]
        grad_leaves = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor) and leaf.requires_grad]
        message = {"callback": self.index, "args": encode(args), "kwargs": encode(kwargs)}
        if grad_leaves and torch.is_grad_enabled():
            holder: dict = {}
            outs = _ThroughGrader.apply(self, message, grad_leaves, holder, *[leaves[i] for i in grad_leaves])
            flat, spec = holder["flat"], holder["spec"]
            it = iter(outs)
            return tree_unflatten([next(it) if isinstance(x, torch.Tensor) else x for x in flat], spec)
        reply = self.ask(message)
        for gen, state in zip(gens, reply.get("states", [])):
            gen.set_state(state)                   # the grader's call consumed the generator as ours would
        return reply["value"]


class _ThroughGrader(torch.autograd.Function):
    """A call-back on the autograd tape: the grader computes the forward and, later, the
    vector-Jacobian product of the graph it kept (reference code never runs here)."""

    @staticmethod
    def forward(ctx, callback, message, grad_leaves, holder, *inputs):
        reply = callback.ask({**message, "grad_leaves": grad_leaves})
        ctx.callback, ctx.graph = callback, reply.get("graph")
        flat, spec = tree_flatten(reply["value"])
        holder["flat"], holder["spec"] = flat, spec
        return tuple(x for x in flat if isinstance(x, torch.Tensor))

    @staticmethod
    def backward(ctx, *grads):
        reply = ctx.callback.ask({"callback_vjp": ctx.graph,
                                  "grads": [None if g is None else g.detach() for g in grads]})
        return (None, None, None, None, *reply["value"])


@contextlib.contextmanager
def _patched(module, patches: dict):
    saved = {name: getattr(module, name, None) for name in patches}
    for name, value in patches.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def encode(value, modules=()):
    """Check a result and mark the module arguments it returns (an in-place function
    returning its argument, ``model.eval()``); :mod:`shared.wire` refuses what is not data."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        return t if type(t) is torch.Tensor else torch.Tensor.as_subclass(t, torch.Tensor)
    if isinstance(value, torch.nn.Module):
        for i, m in enumerate(modules):
            if value is m:
                return {"__arg_module__": i}
        raise TypeError(f"an nn.Module ({type(value).__name__})")
    if isinstance(value, (tuple, list)):
        items = [encode(v, modules) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if not all(isinstance(k, (str, int)) for k in value):
            raise TypeError("a dict with keys that are not strings")
        return {k: encode(v, modules) for k, v in value.items()}
    return value


def _digest(leaf):
    """A digest of an argument's contents, to tell which arguments a call changed."""
    h = hashlib.blake2b(digest_size=16)
    if isinstance(leaf, torch.Tensor):
        t = leaf.detach()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(wire._tensor_bytes(t))
    elif isinstance(leaf, np.ndarray):
        h.update(f"{leaf.dtype}{leaf.shape}".encode())
        h.update(np.ascontiguousarray(leaf).tobytes())
    elif isinstance(leaf, torch.nn.Module):
        for key, value in leaf.state_dict().items():
            h.update(key.encode())
            h.update(wire._tensor_bytes(value))
        h.update(str(leaf.training).encode())
    elif isinstance(leaf, torch.Generator):
        h.update(wire._tensor_bytes(leaf.get_state()))
    elif isinstance(leaf, np.random.Generator):
        h.update(repr(leaf.bit_generator.state).encode())
    else:
        return None
    return h.digest()


def _changed_value(leaf):
    if isinstance(leaf, torch.nn.Module):
        return {"state": {k: v.detach() for k, v in leaf.state_dict().items()}, "training": leaf.training}
    if isinstance(leaf, np.random.Generator):
        return {"np_generator": leaf.bit_generator.state}
    return leaf.detach() if isinstance(leaf, torch.Tensor) else leaf


def _reap_children() -> None:
    """As PID 1 of our namespace, orphans of the student's code become our children."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(config: dict, chan: protocol.Channel, enforced: list[str]) -> None:
    """Import the student's module and serve requests until told to exit."""
    os.chdir(config["workdir"])
    sys.path.insert(0, config["workdir"])
    worker = Worker(chan, config["module"], os.path.join(config["workdir"], config["module"] + ".py"))
    worker.send({"id": 0, "booted": enforced})
    try:
        seed_everything(0)
        worker.module = importlib.import_module(config["module"])
    except BaseException as exc:       # SystemExit and KeyboardInterrupt at import included
        worker.error(0, exc)
        os._exit(0)
    worker.send({"id": 0, "ready": True})
    try:
        worker.serve()
    except (OutOfStep, EOFError, pickle.UnpicklingError, protocol.ProtocolError):
        os._exit(3)
