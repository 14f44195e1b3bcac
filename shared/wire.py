"""The format of everything a student's worker sends back: a JSON header plus raw
buffers.  Reading it never runs code (no pickle): only numbers, strings, lists, tuples,
dicts, tensors, numpy arrays of plain numeric dtypes and torch generator states come
back, and the reader checks every field before it trusts it:

* dtypes against an allow-list, devices against what this machine has;
* every buffer is referenced at most once and must have exactly the bytes its dtype and
  shape need (so a reply cannot make the reader allocate more than it sent);
* the whole decoded reply is capped (``max_bytes``) and nesting is bounded.

Anything else is a :class:`WireError`: the one call that received it fails with a clear
message.  Requests to the worker are pickles (the worker trusts the grader); tensors in
them take the fast path of :func:`reduce_tensor` instead of torch's storage pickling.
"""
from __future__ import annotations

import json
import math
import re
import struct

import numpy as np
import torch

TORCH_DTYPES = {name: getattr(torch, name) for name in (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
    "complex64", "complex128")}
NUMPY_DTYPES = {"bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
                "float16", "float32", "float64", "complex64", "complex128"}
MAX_DEPTH = 64
MAX_BYTES = 256 << 20
_DEVICE = re.compile(r"^(cpu|cuda(:\d{1,2})?)$")


class WireError(ValueError):
    """A reply that does not follow this format."""


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous()
    return t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""


# ---- writing (the worker) ------------------------------------------------------------
def dumps(obj) -> bytes:
    buffers: list[bytes] = []

    def buf(data: bytes) -> int:
        buffers.append(data)
        return len(buffers) - 1

    def enc(v, depth=0):
        if depth > MAX_DEPTH:
            raise TypeError("a value nested too deeply")
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"F": repr(v)}
        if isinstance(v, torch.Tensor):
            dtype = str(v.dtype).removeprefix("torch.")
            if dtype not in TORCH_DTYPES or v.layout != torch.strided:
                raise TypeError(f"a tensor of dtype {v.dtype} and layout {v.layout}")
            return {"T": [buf(_tensor_bytes(v)), dtype, list(v.shape), str(v.device)]}
        if isinstance(v, np.ndarray):
            if v.dtype.name not in NUMPY_DTYPES:
                raise TypeError(f"a numpy array of dtype {v.dtype}")
            return {"N": [buf(np.ascontiguousarray(v).tobytes()), v.dtype.name, list(v.shape)]}
        if isinstance(v, np.generic):
            if v.dtype.name not in NUMPY_DTYPES:
                raise TypeError(f"a numpy scalar of dtype {v.dtype}")
            return {"S": [buf(np.asarray(v).tobytes()), v.dtype.name]}
        if isinstance(v, complex):
            return {"C": [repr(v.real), repr(v.imag)]}
        if isinstance(v, torch.Generator):
            return {"G": [buf(_tensor_bytes(v.get_state())), str(v.device)]}
        if isinstance(v, tuple):
            return {"U": [enc(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return [enc(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {"D": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if isinstance(v, torch.dtype):
            return {"Y": str(v).removeprefix("torch.")}
        if isinstance(v, torch.device):
            return {"V": str(v)}
        raise TypeError(f"an object of type {type(v).__name__}")

    header = json.dumps({"v": enc(obj), "b": [len(b) for b in buffers]}, allow_nan=False).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(buffers)


# ---- reading (the grader) ------------------------------------------------------------
def _int(v, what: str, lo: int = 0, hi: int = 1 << 40) -> int:
    if type(v) is not int or not lo <= v <= hi:
        raise WireError(f"bad {what}: {str(v)[:40]}")
    return v


def _device(name) -> torch.device:
    if not isinstance(name, str) or not _DEVICE.match(name):
        raise WireError(f"unknown device {str(name)[:40]!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise WireError(f"device {name!r} does not exist on the grading machine")
    return torch.device(name)


def _shape(shape) -> list[int]:
    if not isinstance(shape, list) or len(shape) > 32:
        raise WireError("bad shape")
    return [_int(s, "dimension") for s in shape]


def loads(data: bytes, *, max_bytes: int = MAX_BYTES):
    """Decode a reply; raise :class:`WireError` for anything that breaks the format."""
    try:
        return _loads(memoryview(data), max_bytes)
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, struct.error,
            RuntimeError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed reply ({type(exc).__name__})") from None


def _loads(view: memoryview, max_bytes: int):
    if len(view) > max_bytes + (1 << 20):
        raise WireError(f"a reply of {len(view)} bytes")
    (n,) = struct.unpack_from("<Q", view)
    if n > len(view) - 8:
        raise WireError("truncated header")
    header = json.loads(bytes(view[8:8 + n]))
    if not isinstance(header, dict) or set(header) != {"v", "b"} or not isinstance(header["b"], list):
        raise WireError("bad header")
    sizes = [_int(s, "buffer size") for s in header["b"]]
    if 8 + n + sum(sizes) != len(view):
        raise WireError("buffer sizes do not match the reply")
    bufs, offset = [], 8 + n
    for size in sizes:
        bufs.append(view[offset:offset + size])
        offset += size
    used: set[int] = set()

    def take(index, nbytes: int) -> memoryview:
        i = _int(index, "buffer index", 0, len(bufs) - 1)
        if i in used:
            raise WireError("a buffer referenced twice")
        used.add(i)
        if len(bufs[i]) != nbytes:
            raise WireError("a buffer whose size does not match its dtype and shape")
        return bufs[i]

    def dec(v, depth=0):
        if depth > MAX_DEPTH:
            raise WireError("a value nested too deeply")
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, list):
            return [dec(x, depth + 1) for x in v]
        if not isinstance(v, dict) or len(v) != 1:
            raise WireError("bad value")
        ((tag, p),) = v.items()
        if not isinstance(p, (list, str)):
            raise WireError("bad payload")
        if tag == "T":
            i, dtype, shape, device = p
            if dtype not in TORCH_DTYPES:
                raise WireError(f"dtype {str(dtype)[:20]!r} is not allowed")
            shape, device = _shape(shape), _device(device)
            kind = TORCH_DTYPES[dtype]
            raw = take(i, math.prod(shape) * torch.empty((), dtype=kind).element_size())
            t = (torch.frombuffer(bytearray(raw), dtype=torch.uint8) if len(raw)
                 else torch.empty(0, dtype=torch.uint8)).view(kind).reshape(shape)
            return t if device.type == "cpu" else t.to(device)
        if tag == "N":
            i, dtype, shape = p
            if dtype not in NUMPY_DTYPES:
                raise WireError(f"dtype {str(dtype)[:20]!r} is not allowed")
            shape = _shape(shape)
            np_dtype = np.dtype(dtype)
            return np.frombuffer(take(i, math.prod(shape) * np_dtype.itemsize), dtype=np_dtype).reshape(shape).copy()
        if tag == "S":
            i, dtype = p
            if dtype not in NUMPY_DTYPES:
                raise WireError(f"dtype {str(dtype)[:20]!r} is not allowed")
            np_dtype = np.dtype(dtype)
            return np.frombuffer(take(i, np_dtype.itemsize), dtype=np_dtype)[0]
        if tag == "F":
            if p not in ("nan", "inf", "-inf"):
                raise WireError("bad float")
            return float(p)
        if tag == "C":
            return complex(float(p[0]), float(p[1]))
        if tag == "G":
            i, device = p
            state = bytes(bufs[_int(i, "buffer index", 0, len(bufs) - 1)])
            take(i, len(state))
            gen = torch.Generator(device=_device(device))
            gen.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
            return gen
        if tag == "U":
            return tuple(dec(x, depth + 1) for x in p)
        if tag == "D":
            out = {}
            for pair in p:
                key, value = pair
                key = dec(key, depth + 1)
                if not isinstance(key, (str, int)):
                    raise WireError("a dict key that is not a string or an int")
                out[key] = dec(value, depth + 1)
            return out
        if tag == "Y":
            if p not in TORCH_DTYPES:
                raise WireError(f"dtype {str(p)[:20]!r} is not allowed")
            return TORCH_DTYPES[p]
        if tag == "V":
            return _device(p)
        raise WireError(f"unknown tag {str(tag)[:10]!r}")

    return dec(header["v"])


# ---- requests (the grader writes, the worker unpickles) --------------------------------
def rebuild_tensor(raw: bytes, dtype: str, shape, device: str, requires_grad: bool) -> torch.Tensor:
    t = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if len(raw) else torch.empty(0, dtype=torch.uint8)
    t = t.view(TORCH_DTYPES[dtype]).reshape(shape)
    return (t if device == "cpu" else t.to(device)).requires_grad_(requires_grad)


def reduce_tensor(t: torch.Tensor):
    """Pickle reduction for a plain dense tensor (used in requests to the worker)."""
    dtype = str(t.dtype).removeprefix("torch.")
    if type(t) is not torch.Tensor or dtype not in TORCH_DTYPES or t.layout != torch.strided:
        return NotImplemented
    return rebuild_tensor, (_tensor_bytes(t), dtype, list(t.shape), str(t.device), t.requires_grad)
