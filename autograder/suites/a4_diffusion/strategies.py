"""Inputs for the a4_diffusion hidden suite, and a comparator that names known mistakes.

Schedules used as *inputs* are built here from their closed forms (torch.linspace and
the cosine formula), never from student code, so a wrong student schedule cannot
leak into the tests of later tasks.
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import strategies as st

from shared.compare import assert_close
from shared.feedback import Feedback

KINDS = ("linear", "cosine")
kinds = st.sampled_from(KINDS)
num_steps = st.integers(min_value=2, max_value=1000)


def betas_for(kind: str, T: int, device="cpu") -> torch.Tensor:
    """A float64 schedule of length T from its closed form."""
    if kind == "linear":
        b = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    else:
        f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
        b = torch.tensor([min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=torch.float64)
    return b.to(device)


def abar_for(kind: str, T: int, device="cpu") -> torch.Tensor:
    return torch.cumprod(1 - betas_for(kind, T), 0).to(device)


@st.composite
def batch_shapes(draw, rank: int | None = None, max_batch: int = 6, max_side: int = 5):
    """(B, ...) of the given rank (2..5 when None)."""
    rank = rank if rank is not None else draw(st.integers(2, 5))
    batch = draw(st.integers(1, max_batch))
    rest = draw(st.lists(st.integers(1, max_side), min_size=rank - 1, max_size=rank - 1))
    return (batch, *rest)


def view_b(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, ..., 1) in like's dtype (test-side helper for expected values)."""
    return values.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


def _matches(actual, candidate) -> bool:
    try:
        assert_close(actual, candidate, name="candidate")
    except Feedback:
        return False
    return True


# float32 results: a submission may cast the float64 schedule to float32 before forming
# 1 - abar_t, which for abar_t = 1 - 1e-4 (the first steps) keeps only ~3 significant
# digits of the coefficient (relative error ~6e-4 after cancellation).  Real mistakes
# (wrong index, missing sqrt, wrong variance) change results by 1e-2 and more.
F32_LOOSEN = 10.0


def loosen_for(dtype) -> float:
    return F32_LOOSEN if dtype == torch.float32 else 1.0


def check(actual, expected, *, name: str, hint: str, mistakes=(), loosen: float = 1.0):
    """``assert_close``; on a mismatch, when the result equals one of the known
    ``mistakes`` (``(candidate, diagnosis)`` pairs computed by the test), the
    diagnosis is put in front of the hint.  Candidates are results, never inputs."""
    try:
        assert_close(actual, expected, name=name, hint=hint, loosen=loosen)
    except Feedback as fb:
        for candidate, diagnosis in mistakes:
            if candidate is not None and _matches(actual, candidate):
                raise Feedback(fb.message, f"{diagnosis} {hint}") from None
        raise


@pytest.fixture
def pinned_threads(assignment):
    """Time with the assignment's thread count (the grading workers use it; an in-process
    run would otherwise time with every core, which is noisy on a shared machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(assignment.threads)
    yield
    torch.set_num_threads(before)


class EpsModel:
    """A noise predictor for the samplers: the optimal one for data ~ N(0, s^2 I),
    ``eps = sqrt(1 - abar_t) x_t / (abar_t s^2 + 1 - abar_t)``, plus a small nonlinear term
    from ``TinyEpsModel`` so that mistakes in ``t`` or in the order of the steps change the
    result (a constant or linear model would hide some).  The samples stay O(1).  A plain
    callable: when grading it stays in this process and the student's code calls it back;
    it records every call (``x`` and ``t``)."""

    def __init__(self, abar: torch.Tensor, channels: int, seed: int, s: float = 0.5):
        from shared.models_a4 import TinyEpsModel
        self.abar = abar.to(torch.float64)
        self.s2 = s * s
        self.net = TinyEpsModel(channels, seed=seed, dtype=torch.float64)
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x64 = x.to(torch.float64)
        t = torch.as_tensor(t).long().reshape(-1)
        a = self.abar[t].reshape(-1, *([1] * (x.dim() - 1)))
        with torch.no_grad():
            out = (1 - a).sqrt() * x64 / (a * self.s2 + 1 - a) + 0.1 * self.net(x64, t)
        return out.to(x.dtype)

    def __call__(self, x, t):
        self.calls.append((torch.as_tensor(x).detach().clone(), torch.as_tensor(t).detach().clone()))
        return self.eps(torch.as_tensor(x), torch.as_tensor(t))
