"""A small fingerprint of a result, so that speed checks only count correct results.

The fingerprint of every timed round (student and reference, on the same inputs) is
compared; it covers every tensor / array in the result: shape, sum, sum of absolute
values and a sum weighted by a fixed non-periodic pattern (so a permuted or shifted
result does not pass).  Reading it back also forces asynchronous CUDA work to finish
before the clock stops.
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


_WEIGHTS: dict[int, torch.Tensor] = {}


def _weights(n: int) -> torch.Tensor:
    if n not in _WEIGHTS:
        if len(_WEIGHTS) > 32:
            _WEIGHTS.clear()
        _WEIGHTS[n] = torch.cos(torch.arange(n, dtype=torch.float64) * 0.7071)
    return _WEIGHTS[n]


def checksum(result) -> list[dict] | None:
    prints = []
    for leaf in tree_leaves(result):
        t = _as_tensor(leaf)
        if t is None or t.dtype.is_complex:
            continue
        t = t.to("cpu", torch.float64).reshape(-1)
        weights = _weights(t.numel())
        finite = torch.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)
        prints.append({"shape": list(leaf.shape) if hasattr(leaf, "shape") else [], "sum": float(finite.sum()),
                       "abs": float(finite.abs().sum()), "weighted": float((finite * weights).sum()),
                       "nonfinite": int((~torch.isfinite(t)).sum())})
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
