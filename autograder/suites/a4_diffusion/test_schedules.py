"""Task 1.1-1.3: noise schedules (linear, cosine) and alpha-bar."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a4_diffusion.strategies import check
from shared.compare import assert_close, assert_true
from shared.strategies import float_dtypes, rand, seeds
from shared.i18n import N_
from shared.hints_a4 import LINEAR_HINT, COSINE_HINT


def _cosine_closed_form(T, s, max_beta, clip=True, offset=True):
    s = s if offset else 0.0
    f = [math.cos((i / T + s) / (1 + s) * math.pi / 2) ** 2 for i in range(T + 1)]
    b = [1 - f[i + 1] / f[i] if f[i] > 0 else 1.0 for i in range(T)]
    return torch.tensor([min(x, max_beta) if clip else x for x in b], dtype=torch.float64)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "schedule")
@given(T=st.integers(1, 2000), start=st.floats(1e-5, 1e-2), end=st.floats(1e-2, 0.5))
def test_linear_beta_schedule_matches_reference(student, reference, T, start, end):
    """1.1 linear_beta_schedule matches the reference (float64, length T)"""
    check(student.linear_beta_schedule(T, beta_start=start, beta_end=end),
          reference.linear_beta_schedule(T, beta_start=start, beta_end=end),
          name=N_("linear_beta_schedule output"), hint=LINEAR_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "schedule", "closed-form")
def test_linear_beta_schedule_defaults(student):
    """1.1 linear_beta_schedule(T) with the default endpoints equals torch.linspace"""
    for T in (1000, 10, 2):
        expected = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
        assert_close(student.linear_beta_schedule(T), expected,
                     name=f"linear_beta_schedule({T})", hint=LINEAR_HINT + N_("; defaults 1e-4 and 0.02"))


@pytest.mark.task("1.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "schedule")
@given(T=st.integers(1, 2000), s=st.floats(0.0, 0.05), max_beta=st.floats(0.2, 0.999))
def test_cosine_beta_schedule_matches_reference(student, reference, T, s, max_beta):
    """1.2 cosine_beta_schedule matches the reference (offset s, max_beta clip)"""
    got = student.cosine_beta_schedule(T, s=s, max_beta=max_beta)
    check(got, reference.cosine_beta_schedule(T, s=s, max_beta=max_beta),
          name=N_("cosine_beta_schedule output"), hint=COSINE_HINT,
          mistakes=[(_cosine_closed_form(T, s, max_beta, clip=False),
                     N_("Your cosine betas are not clipped at max_beta.")),
                    (_cosine_closed_form(T, s, max_beta, offset=False),
                     N_("Your cosine schedule ignores the offset s."))])


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "schedule", "closed-form")
def test_cosine_beta_schedule_closed_form(student):
    """1.2 cosine_beta_schedule(1000) equals the Nichol & Dhariwal closed form"""
    got = student.cosine_beta_schedule(1000)
    assert_close(got, _cosine_closed_form(1000, 0.008, 0.999), name="cosine_beta_schedule(1000)",
                 hint=COSINE_HINT + N_(" (defaults s=0.008, max_beta=0.999)"),
                 )
    assert_true(float(got.max()) <= 0.999, N_("your cosine betas exceed max_beta."), COSINE_HINT)
    # abar_t = f((t+1)/T) / f(0) wherever no clip applies (all but the last step here)
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    abar = torch.cumprod(1 - got, 0)
    expected = torch.tensor([f((i + 1) / 1000) / f(0) for i in range(999)], dtype=torch.float64)
    assert_close(abar[:999], expected, name=N_("cumulative product of (1 - your cosine betas)"),
                 hint=N_("in the cosine schedule abar_t = f((t+1)/T) / f(0): the betas are ratios of consecutive f"))


@pytest.mark.task("1.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "schedule")
@settings(max_examples=10)
@given(seed=seeds, T=st.integers(1, 500), dtype=float_dtypes)
def test_alphas_cumprod_matches_torch(student, seed, T, dtype):
    """1.3 alphas_cumprod equals cumprod(1 - beta) and keeps the dtype"""
    betas = rand((T,), seed, dtype, low=1e-4, high=0.5)
    assert_close(student.alphas_cumprod(betas), torch.cumprod(1 - betas, 0), name=N_("alphas_cumprod output"),
                 hint=N_("abar_t = prod_{s=0..t} (1 - beta_s): a cumulative product that includes step t (0-based)"))
