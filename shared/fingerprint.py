"""A small fingerprint of a result, so that speed checks only count correct results.

The fingerprint of every timed round (student and reference, on the same inputs) is
compared; it covers every tensor / array in the result: shape, sum, sum of absolute
values and a sum weighted by a fixed non-periodic pattern (so a permuted or shifted
result does not pass), computed on the result's own device.  Reading it back also forces
asynchronous CUDA work to finish before the clock stops.
"""
from __future__ import annotations

import math

import torch
from torch.utils._pytree import tree_leaves


def _as_tensor(leaf):
    if isinstance(leaf, torch.Tensor):
        return leaf.detach()
    if hasattr(leaf, "__array__") and hasattr(leaf, "dtype"):
        try:
            return torch.as_tensor(leaf)
        except Exception:
            return None
    if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
        return torch.tensor(float(leaf))
    return None


_WEIGHTS: dict[tuple, torch.Tensor] = {}


def _weights(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A fixed non-periodic pattern in [-1, 1], cached per size: built once per worker."""
    key = (n, dtype, str(device))
    if key not in _WEIGHTS:
        if len(_WEIGHTS) > 32:
            _WEIGHTS.clear()
        _WEIGHTS[key] = torch.cos(torch.arange(n, dtype=dtype, device=device) * 0.7071)
    return _WEIGHTS[key]


def _print(leaf, t: torch.Tensor) -> dict:
    # The fingerprint is computed inside the timed region (a student cannot move work into
    # it), so it must cost far less than the call it checks: reductions that accumulate in
    # float64 without a float64 copy, and one dot product; a full float64 pass only for a
    # result with a NaN or an infinity, which any non-finite element makes the sum show.
    t = t.reshape(-1)
    if t.dtype not in (torch.float32, torch.float64):
        t = t.to(torch.float64)
    total = torch.sum(t, dtype=torch.float64)
    if bool(torch.isfinite(total)):
        absolute = torch.linalg.vector_norm(t, 1, dtype=torch.float64)
        weighted = torch.dot(t, _weights(t.numel(), t.dtype, t.device))
        nonfinite = 0
    else:
        t = t.to(torch.float64)
        finite = torch.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)
        total, absolute = finite.sum(), finite.abs().sum()
        weighted = torch.dot(finite, _weights(t.numel(), t.dtype, t.device))
        nonfinite = int((~torch.isfinite(t)).sum())
    return {"shape": list(leaf.shape) if hasattr(leaf, "shape") else [], "sum": float(total),
            "abs": float(absolute), "weighted": float(weighted), "nonfinite": nonfinite}


def checksum(result) -> list[dict] | None:
    prints = []
    for leaf in tree_leaves(result):
        t = _as_tensor(leaf)
        if t is not None and not t.dtype.is_complex:
            prints.append(_print(leaf, t))
    return prints or None


def same_result(student, reference, rtol: float = 1e-3) -> bool:
    """Do two fingerprints agree (relative to the reference's magnitude)?"""
    if reference is None:
        return True                         # nothing to compare (e.g. a function returning None)
    if not isinstance(student, list) or len(student) != len(reference):
        return False
    for s, r in zip(student, reference):
        if not isinstance(s, dict) or s.get("shape") != r["shape"] or s.get("nonfinite") != r["nonfinite"]:
            return False
        scale = max(r["abs"], 1e-12)
        for key in ("sum", "abs", "weighted"):
            value = s.get(key)
            if not isinstance(value, float) or not math.isfinite(value) or abs(value - r[key]) > rtol * scale:
                return False
    return True
