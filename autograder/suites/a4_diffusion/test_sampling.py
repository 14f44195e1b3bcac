"""Task 3.1-3.3: DDIM, classifier-free guidance, the sinusoidal timestep embedding."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a4_diffusion.strategies import (abar_for, batch_shapes, betas_for, check, kinds, loosen_for,
                                                       num_steps)
from shared.compare import assert_close
from shared.strategies import float_dtypes, randint, randn, seeds
from shared.i18n import N_
from shared.hints_a4 import ETA0_HINT, TPREV_HINT, CFG_HINT, EMB_HINT


DDIM_HINT = (N_("DDIM: x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t); sigma^2 = eta^2 (1 - a_prev) / (1 - a_t) (1 "
                "- a_t / a_prev); x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps + sigma * noise, "
                "with a_prev = 1 when t_prev < 0"))


def _ddim_closed_form(eps, t, t_prev, xt, abar, eta, noise):
    a_t = float(abar[t])
    a_p = float(abar[t_prev]) if t_prev >= 0 else 1.0
    sigma2 = eta ** 2 * (1 - a_p) / (1 - a_t) * (1 - a_t / a_p)
    x0_hat = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    return math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p - sigma2) * eps + math.sqrt(sigma2) * noise


@st.composite
def ddim_times(draw, T):
    """(t, t_prev): a strided pair, the first step of a sampler, or the last (t_prev < 0)."""
    t = draw(st.integers(0, T - 1))
    stride = draw(st.integers(1, max(1, T // 2)))
    return t, t - stride


# ---- 3.1 DDIM -------------------------------------------------------------------------------
@pytest.mark.task("3.1")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "sampling")
@settings(max_examples=20)
@given(shape=batch_shapes(), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes,
       eta=st.sampled_from([0.0, 0.3, 1.0]), data=st.data())
def test_ddim_step_matches_reference(student, reference, shape, seed, kind, T, dtype, eta, data):
    """3.1 ddim_step matches the reference (= diffusers DDIMScheduler.step) for eta in {0, 0.3, 1}"""
    t, t_prev = data.draw(ddim_times(T))
    abar = abar_for(kind, T)
    eps, xt, noise = (randn(shape, seed + i, dtype) for i in range(3))
    expected = reference.ddim_step(eps, t, t_prev, xt, abar, eta=eta, noise=noise)
    mistakes = []
    if t_prev < 0 and eta == 0:       # alphas_cumprod[t_prev] wraps around to the end of the schedule
        mistakes.append((_ddim_closed_form(eps, t, t_prev % T, xt, abar, 0.0, noise),
                         "Your step indexes alphas_cumprod with the negative t_prev."))
    hint = DDIM_HINT + ("; " + TPREV_HINT if t_prev < 0 else "") + ("; " + ETA0_HINT if eta == 0 else "")
    check(student.ddim_step(eps, t, t_prev, xt, abar, eta=eta, noise=noise), expected, name=N_("ddim_step output"),
          hint=hint, mistakes=mistakes, loosen=loosen_for(dtype))


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "sampling", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps, data=st.data())
def test_ddim_step_eta0_deterministic(student, seed, kind, T, data):
    """3.1 ddim_step with eta = 0 ignores the noise and equals the DDIM closed form"""
    t, t_prev = data.draw(ddim_times(T))
    t_prev = max(t_prev, 0) if t > 0 else -1
    abar = abar_for(kind, T)
    eps, xt = randn((4, 3, 2), seed), randn((4, 3, 2), seed + 1)
    expected = _ddim_closed_form(eps, t, t_prev, xt, abar, 0.0, torch.zeros_like(xt))
    for i, noise in enumerate((randn((4, 3, 2), seed + 2), randn((4, 3, 2), seed + 3, scale=5.0), None)):
        assert_close(student.ddim_step(eps, t, t_prev, xt, abar, eta=0.0, noise=noise), expected,
                     name=N_("ddim_step output with eta = 0") + (N_(" and noise=None") if noise is None else ""),
                     hint=ETA0_HINT)
    assert_close(student.ddim_step(eps, t, t_prev, xt, abar, 0.0), expected,
                 name=N_("ddim_step output with eta = 0 (default noise)"), hint=ETA0_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "sampling", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps, data=st.data(), dtype=float_dtypes)
def test_ddim_step_last_step_returns_x0_hat(student, seed, kind, T, data, dtype):
    """3.1 ddim_step with t_prev < 0 uses abar = 1 and returns x0_hat (eta = 0)"""
    t = data.draw(st.integers(0, T - 1))
    t_prev = -data.draw(st.integers(1, 50))
    abar = abar_for(kind, T)
    eps, xt, noise = (randn((3, 2, 2, 2), seed + i, dtype) for i in range(3))
    a_t = float(abar[t])
    expected = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    assert_close(student.ddim_step(eps, t, t_prev, xt, abar, eta=0.0, noise=noise), expected,
                 name=N_("ddim_step output for t_prev < 0"), hint=TPREV_HINT + N_("; then x_prev = x0_hat"),
                 loosen=loosen_for(dtype))


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "sampling", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps, data=st.data())
def test_ddim_step_eta1_is_ddpm(student, reference, seed, kind, T, data):
    """3.1 ddim_step with eta = 1 and t_prev = t - 1 equals the DDPM step"""
    t = data.draw(st.integers(1, T - 1))
    betas = betas_for(kind, T)
    abar = torch.cumprod(1 - betas, 0)
    eps, xt, noise = (randn((3, 5), seed + i) for i in range(3))
    expected = reference.ddpm_step(eps, t, xt, betas, noise)
    assert_close(student.ddim_step(eps, t, t - 1, xt, abar, eta=1.0, noise=noise), expected,
                 name=N_("ddim_step output (eta = 1, t_prev = t - 1)"),
                 hint=N_("with eta = 1 and consecutive steps sigma^2 is the DDPM posterior variance beta_tilde_t "
                         "and DDIM reduces to the DDPM step; ") + DDIM_HINT)


# ---- 3.2 classifier-free guidance ---------------------------------------------------------------
@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "guidance")
@given(shape=batch_shapes(), seed=seeds, dtype=float_dtypes, scale=st.floats(-2.0, 15.0))
def test_classifier_free_guidance_matches_reference(student, reference, shape, seed, dtype, scale):
    """3.2 classifier_free_guidance matches the reference"""
    u, c = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    wrong = c + scale * (c - u)
    check(student.classifier_free_guidance(u, c, scale), reference.classifier_free_guidance(u, c, scale),
          name=N_("classifier_free_guidance output"), hint=CFG_HINT,
          mistakes=[(wrong, N_("Your guidance is applied to the conditional prediction (eps_cond + ...)."))])


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "guidance", "closed-form")
@settings(max_examples=10)
@given(shape=batch_shapes(), seed=seeds, dtype=float_dtypes)
def test_classifier_free_guidance_scales_0_and_1(student, seed, shape, dtype):
    """3.2 classifier-free guidance at scale 1 is the conditional and at scale 0 the unconditional prediction"""
    u, c = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    assert_close(student.classifier_free_guidance(u, c, 1.0), c, name=N_("guidance at scale 1"), hint=CFG_HINT)
    assert_close(student.classifier_free_guidance(u, c, 0.0), u, name=N_("guidance at scale 0"), hint=CFG_HINT)
    assert_close(student.classifier_free_guidance(u, c, 7.5), torch.lerp(u, c, 7.5), name=N_("guidance at scale 7.5"),
                 hint=CFG_HINT)


# ---- 3.3 timestep embedding ----------------------------------------------------------------------
@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "embedding")
@given(seed=seeds, B=st.integers(1, 8), dim=st.integers(1, 64), max_period=st.sampled_from([10000, 1000, 100]),
       floating=st.booleans())
def test_timestep_embedding_matches_reference(student, reference, seed, B, dim, max_period, floating):
    """3.3 timestep_embedding matches the reference (odd and even dim, integer and float t)"""
    t = randint((B,), seed, 0, 1000)
    if floating:
        t = t.double() + randn((B,), seed + 1).abs()
    expected = reference.timestep_embedding(t, dim, max_period=max_period)
    wrong_order = torch.cat([expected[:, dim // 2:2 * (dim // 2)], expected[:, :dim // 2], expected[:, 2 * (dim // 2):]], 1)
    # integer t gives float32: t * freq up to ~1e3 rounds to ~1e-4 absolute when formed in float32
    check(student.timestep_embedding(t, dim, max_period=max_period), expected, name=N_("timestep_embedding output"),
          hint=EMB_HINT, loosen=1.0 if floating else 20.0,
          mistakes=[(wrong_order, N_("Your columns are cos then sin: put the sin block first."))])


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "embedding", "closed-form")
@pytest.mark.parametrize("dim", [6, 7], ids=["even", "odd"])
def test_timestep_embedding_closed_form(student, dim):
    """3.3 timestep_embedding: sin columns, then cos columns, then a zero column for odd dim"""
    t = torch.tensor([0.0, 1.0, 2.5, 999.0], dtype=torch.float64)
    half = dim // 2
    freqs = torch.tensor([10000 ** (-i / half) for i in range(half)], dtype=torch.float64)
    args = t[:, None] * freqs
    expected = torch.cat([torch.sin(args), torch.cos(args), torch.zeros(4, dim - 2 * half, dtype=torch.float64)], 1)
    assert_close(student.timestep_embedding(t, dim), expected, name=f"timestep_embedding(t, {dim})", hint=EMB_HINT)
