"""Arguments and results of worker calls, seen from the grader.

``pack_args`` pickles a call's arguments (callables stay here as call-back references,
tensors that require grad become leaves there); ``write_back`` applies what a call changed
among its arguments to the caller's own objects; :class:`RemoteCall` puts a worker call on
this process' autograd tape.
"""
from __future__ import annotations

import contextlib
import io
import pickle

import numpy as np
import torch
from torch.utils._pytree import tree_map

from shared import wire


class _CallbackRef:
    def __init__(self, index: int):
        self.index = index


class _ArgPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("callback", obj.index) if isinstance(obj, _CallbackRef) else None

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            return wire.reduce_tensor(obj)          # raw bytes instead of torch's storage pickling
        return NotImplemented


def _is_callback(obj) -> bool:
    return callable(obj) and not isinstance(obj, (type, torch.nn.Module, torch.Tensor, np.ndarray, np.ufunc,
                                                  torch.Generator, np.random.Generator))


def pack_args(args, kwargs, callbacks: list) -> bytes:
    """Arguments as the worker should see them: callables become call-backs into this
    process; tensors that require grad become leaves (the graph stays here)."""
    def prepare(obj):
        if isinstance(obj, torch.Tensor):
            return obj.detach().requires_grad_(True) if obj.requires_grad else obj
        if getattr(obj, "_is_remote_object", False):
            raise TypeError("a student object cannot be passed as an argument")
        if _is_callback(obj):
            callbacks.append(obj)
            return _CallbackRef(len(callbacks) - 1)
        return obj
    buf = io.BytesIO()
    _ArgPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(tree_map(prepare, (args, kwargs)))
    return buf.getvalue()


def decode_modules(value, modules):
    if isinstance(value, dict):
        if set(value) == {"__arg_module__"} and type(value["__arg_module__"]) is int \
                and 0 <= value["__arg_module__"] < len(modules):
            return modules[value["__arg_module__"]]
        return {k: decode_modules(v, modules) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        items = [decode_modules(v, modules) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value


def write_back(leaves: list, changed) -> None:
    """Apply what the worker reports the call changed to the caller's own objects."""
    if not isinstance(changed, list):
        return
    with torch.no_grad():
        for item in changed:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int and 0 <= item[0] < len(leaves)):
                continue
            orig, new = leaves[item[0]], item[1]
            if isinstance(orig, torch.Tensor) and isinstance(new, torch.Tensor):
                if orig.shape == new.shape and orig.dtype == new.dtype:
                    orig.copy_(new)
                else:
                    orig.data = new.to(orig.device)
            elif isinstance(orig, np.ndarray) and isinstance(new, np.ndarray) and orig.shape == new.shape:
                orig[...] = new
            elif isinstance(orig, torch.nn.Module) and isinstance(new, dict) and isinstance(new.get("state"), dict):
                orig.load_state_dict(new["state"], strict=False)
                orig.train(bool(new.get("training", orig.training)))
            elif isinstance(orig, torch.Generator) and isinstance(new, torch.Generator):
                orig.set_state(new.get_state())
            elif isinstance(orig, np.random.Generator) and isinstance(new, dict) and "np_generator" in new:
                with contextlib.suppress(Exception):
                    orig.bit_generator.state = new["np_generator"]


class RemoteCall(torch.autograd.Function):
    """Connects a worker call to this process' autograd graph."""

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
        return (None, *ctx.remote_backward(list(grads)))
