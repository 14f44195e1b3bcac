"""Hypothesis strategies and seeded tensor factories shared by every suite.

Hypothesis draws *sizes and seeds*; tensors are then built from a
``torch.Generator`` seeded with the drawn seed, so every case is reproducible from
its seed and the grading profile (derandomized, no deadline) gives the same cases on
every run.  Assignment-specific composites live next to their suite and build on these.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

GRADING_PROFILE = "grading"
settings.register_profile(
    GRADING_PROFILE,
    derandomize=True,          # same examples on every run: same score twice
    deadline=None,             # worker round-trips and slow CI must not flake
    max_examples=20,
    database=None,             # nothing written next to the submission
    print_blob=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),   # no shrinking: fail fast, same first failure
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)
settings.load_profile(GRADING_PROFILE)

FLOAT_DTYPES = (torch.float32, torch.float64)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
float_dtypes = st.sampled_from(FLOAT_DTYPES)


def small_ints(lo: int = 1, hi: int = 8):
    return st.integers(min_value=lo, max_value=hi)


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 6):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(int(seed))


def randn(shape, seed: int, dtype=torch.float64, device="cpu", scale: float = 1.0,
          requires_grad: bool = False) -> torch.Tensor:
    """Standard-normal tensor from its own seeded generator (built on CPU, then moved,
    so the values do not depend on the device)."""
    t = torch.randn(tuple(shape), generator=generator(seed), dtype=torch.float64) * scale
    t = t.to(dtype=dtype, device=device)
    return t.requires_grad_(requires_grad)


def rand(shape, seed: int, dtype=torch.float64, device="cpu", low: float = 0.0, high: float = 1.0):
    t = torch.rand(tuple(shape), generator=generator(seed), dtype=torch.float64) * (high - low) + low
    return t.to(dtype=dtype, device=device)


def randint(shape, seed: int, low: int, high: int, device="cpu") -> torch.Tensor:
    return torch.randint(low, high, tuple(shape), generator=generator(seed)).to(device)


def np_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(int(seed))
