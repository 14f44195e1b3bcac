"""The format of everything a student's worker sends back: a JSON header plus raw
buffers.  Reading it never runs code (no pickle): only numbers, strings, lists, tuples,
dicts, tensors and numpy arrays of plain numeric dtypes can come back, and every dtype
is checked against an allow-list before a buffer is interpreted.

Requests to the worker are pickles (the worker trusts the grader); tensors in them
take the fast path of :func:`reduce_tensor` instead of torch's storage pickling.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import torch

TORCH_DTYPES = {name: getattr(torch, name) for name in (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
    "complex64", "complex128")}
NUMPY_DTYPES = {"bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
                "float16", "float32", "float64", "complex64", "complex128"}


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous()
    return t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""


def _tensor_from(buf, dtype: str, shape, device: str) -> torch.Tensor:
    if dtype not in TORCH_DTYPES:
        raise ValueError(f"dtype {dtype!r} is not allowed")
    raw = torch.frombuffer(bytearray(buf), dtype=torch.uint8) if len(buf) else torch.empty(0, dtype=torch.uint8)
    t = raw.view(TORCH_DTYPES[dtype]).reshape([int(s) for s in shape])
    device = torch.device(device)
    return t if device.type == "cpu" else t.to(device)


def dumps(obj) -> bytes:
    buffers: list[bytes] = []

    def enc(v):
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, torch.Tensor):
            dtype = str(v.dtype).removeprefix("torch.")
            if dtype not in TORCH_DTYPES or v.layout != torch.strided:
                raise TypeError(f"a tensor of dtype {v.dtype} and layout {v.layout}")
            buffers.append(_tensor_bytes(v))
            return {"T": [len(buffers) - 1, dtype, list(v.shape), str(v.device)]}
        if isinstance(v, np.ndarray):
            if v.dtype.name not in NUMPY_DTYPES:
                raise TypeError(f"a numpy array of dtype {v.dtype}")
            buffers.append(np.ascontiguousarray(v).tobytes())
            return {"N": [len(buffers) - 1, v.dtype.name, list(v.shape)]}
        if isinstance(v, np.generic):
            if v.dtype.name not in NUMPY_DTYPES:
                raise TypeError(f"a numpy scalar of dtype {v.dtype}")
            buffers.append(np.asarray(v).tobytes())
            return {"S": [len(buffers) - 1, v.dtype.name]}
        if isinstance(v, complex):
            return {"C": [v.real, v.imag]}
        if isinstance(v, tuple):
            return {"U": [enc(x) for x in v]}
        if isinstance(v, list):
            return [enc(x) for x in v]
        if isinstance(v, dict):
            return {"D": [[enc(k), enc(x)] for k, x in v.items()]}
        if isinstance(v, torch.dtype):
            return {"Y": str(v).removeprefix("torch.")}
        if isinstance(v, torch.device):
            return {"V": str(v)}
        raise TypeError(f"an object of type {type(v).__name__}")

    header = json.dumps({"v": enc(obj), "b": [len(b) for b in buffers]}).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(buffers)


def loads(data: bytes):
    (n,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8:8 + n])
    view, offset, bufs = memoryview(data), 8 + n, []
    for size in header["b"]:
        bufs.append(view[offset:offset + int(size)])
        offset += int(size)

    def dec(v):
        if isinstance(v, list):
            return [dec(x) for x in v]
        if not isinstance(v, dict):
            return v
        ((tag, payload),) = v.items()
        if tag == "T":
            i, dtype, shape, device = payload
            return _tensor_from(bufs[i], dtype, shape, device)
        if tag == "N":
            i, dtype, shape = payload
            if dtype not in NUMPY_DTYPES:
                raise ValueError(f"dtype {dtype!r} is not allowed")
            return np.frombuffer(bufs[i], dtype=np.dtype(dtype)).reshape([int(s) for s in shape]).copy()
        if tag == "S":
            i, dtype = payload
            if dtype not in NUMPY_DTYPES:
                raise ValueError(f"dtype {dtype!r} is not allowed")
            return np.frombuffer(bufs[i], dtype=np.dtype(dtype))[0]
        if tag == "C":
            return complex(float(payload[0]), float(payload[1]))
        if tag == "U":
            return tuple(dec(x) for x in payload)
        if tag == "D":
            return {dec(k): dec(x) for k, x in payload}
        if tag == "Y":
            if payload not in TORCH_DTYPES:
                raise ValueError(f"dtype {payload!r} is not allowed")
            return TORCH_DTYPES[payload]
        if tag == "V":
            return torch.device(str(payload))
        raise ValueError(f"unknown tag {tag!r}")

    return dec(header["v"])


def rebuild_tensor(raw: bytes, dtype: str, shape, device: str, requires_grad: bool) -> torch.Tensor:
    return _tensor_from(raw, dtype, shape, device).requires_grad_(requires_grad)


def reduce_tensor(t: torch.Tensor):
    """Pickle reduction for a plain dense tensor (used in requests to the worker)."""
    dtype = str(t.dtype).removeprefix("torch.")
    if type(t) is not torch.Tensor or dtype not in TORCH_DTYPES or t.layout != torch.strided:
        return NotImplemented
    return rebuild_tensor, (_tensor_bytes(t), dtype, list(t.shape), str(t.device), t.requires_grad)
