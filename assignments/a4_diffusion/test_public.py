"""Public tests for a4_diffusion: small checks you can run yourself.

    python grade.py check a4_diffusion path/to/a4_diffusion.py
    python -m pytest assignments/a4_diffusion/test_public.py -k q_sample     # one function

Passing these does not guarantee full marks: the hidden tests check many more inputs,
closed forms, dtypes, ranks and speed.
"""
import math

import pytest
import torch

from shared.compare import assert_close, assert_true
from shared.hints_a4 import (LINEAR_HINT, COSINE_HINT, ABAR_HINT, Q_HINT, POST_HINT, X0_HINT, DDPM_HINT, FINAL_HINT,
                              LOSS_HINT, ETA0_HINT, TPREV_HINT, CFG_HINT, EMB_HINT, DDPM_SAMPLE_HINT, TIMESTEP_HINT,
                              DDIM_SAMPLE_HINT, LEADING_HINT)
from shared.i18n import N_
from shared.models_a4 import TinyEpsModel
from shared.strategies import randint, randn
from shared.tolerances import Tol

pytestmark = pytest.mark.visibility("visible")

T = 50



def linear_betas():
    return torch.linspace(1e-4, 0.02, T, dtype=torch.float64)


def linear_abar():
    return torch.cumprod(1 - linear_betas(), 0)


def check_tensor(out, name, dtype, shape, hint=None):
    """``out`` is a tensor of this dtype and shape (before its values are looked at)."""
    assert_true(isinstance(out, torch.Tensor), N_("your {name} is a {actual}; expected a {expected}.").format(
        name=name, actual=type(out).__name__, expected="torch.Tensor"), hint)
    assert_true(out.dtype == dtype, N_("your {name} has dtype {actual}; expected {expected}.").format(
        name=name, actual=out.dtype, expected=dtype), hint)
    assert_true(tuple(out.shape) == tuple(shape), N_("your {name} has shape {actual}; expected {expected}.").format(
        name=name, actual=tuple(out.shape), expected=tuple(shape)), hint)


def test_linear_beta_schedule_endpoints(student):
    betas = student.linear_beta_schedule(T)
    check_tensor(betas, N_("linear_beta_schedule output"), torch.float64, (T,), LINEAR_HINT)
    assert_close(betas, linear_betas(), name=N_("linear_beta_schedule output"), hint=LINEAR_HINT)


def test_cosine_beta_schedule_formula(student):
    f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
    expected = torch.tensor([min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=torch.float64)
    betas = student.cosine_beta_schedule(T)
    check_tensor(betas, N_("cosine_beta_schedule output"), torch.float64, (T,), COSINE_HINT)
    assert_true(float(betas[-1]) == 0.999, N_("your last cosine beta is {actual:.6g}; expected 0.999: the betas are "
                                              "clipped at max_beta.").format(actual=float(betas[-1])), COSINE_HINT)
    assert_close(betas, expected, name=N_("cosine_beta_schedule output"), hint=COSINE_HINT)


def test_alphas_cumprod_small(student):
    betas = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    assert_close(student.alphas_cumprod(betas), torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64),
                 name=N_("alphas_cumprod output"), hint=ABAR_HINT)


def test_q_sample_per_sample_timesteps(student):
    abar = linear_abar()
    x0, noise = randn((3, 2, 4, 4), 0, torch.float32), randn((3, 2, 4, 4), 1, torch.float32)
    t = torch.tensor([0, 10, T - 1])
    out = student.q_sample(x0, t, noise, abar)
    check_tensor(out, N_("q_sample output"), torch.float32, x0.shape, Q_HINT)
    for b in range(3):          # (a loop is fine in a test; your code should not need one)
        a = float(abar[t[b]])
        assert_close(out[b], math.sqrt(a) * x0[b] + math.sqrt(1 - a) * noise[b],
                     name=N_("q_sample output for sample {b} (t = {t})").format(b=b, t=int(t[b])), hint=Q_HINT)


def test_q_sample_any_rank(student):
    abar = linear_abar()
    for shape in [(4, 3), (4, 2, 3), (4, 2, 3, 3), (4, 1, 2, 3, 3)]:
        x0, noise = randn(shape, 2), randn(shape, 3)
        t = randint((4,), 4, 0, T)
        out = student.q_sample(x0, t, noise, abar)
        name = N_("q_sample output for {rank}-D inputs").format(rank=len(shape))
        check_tensor(out, name, torch.float64, shape, Q_HINT)
        assert_close(out[1], abar[t[1]].sqrt() * x0[1] + (1 - abar[t[1]]).sqrt() * noise[1],
                     name=N_("{name}, sample 1").format(name=name), hint=Q_HINT)


def test_q_posterior_mean_variance_small(student):
    betas = torch.tensor([0.5, 0.5], dtype=torch.float64)
    x0, xt = torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)
    got = student.q_posterior_mean_variance(x0, xt, torch.tensor([0, 1]), betas)
    assert_true(isinstance(got, tuple) and len(got) == 2,
                N_("q_posterior_mean_variance must return a tuple (mean, variance)."), POST_HINT)
    mean, var = got
    check_tensor(var, N_("posterior variance"), torch.float64, (2, 1), POST_HINT)
    assert_close(var[:, 0], torch.tensor([0.0, 1 / 3], dtype=torch.float64), name=N_("posterior variance"),
                 hint=POST_HINT)
    # t = 1: sqrt(alpha_1) (1 - abar_0) / (1 - abar_1) = sqrt(0.5) * 0.5 / 0.75
    assert_close(mean[1], torch.full((3,), math.sqrt(0.5) * 0.5 / 0.75, dtype=torch.float64),
                 name=N_("posterior mean at t = {t}").format(t=1), hint=POST_HINT)
    assert_close(mean[0], x0[0], name=N_("posterior mean at t = {t}").format(t=0), hint=POST_HINT)


def test_predict_x0_from_eps_roundtrip(student):
    abar = linear_abar()
    x0, noise = randn((4, 3, 2), 5), randn((4, 3, 2), 6)
    t = torch.tensor([0, 5, 20, T - 1])
    xt = torch.stack([abar[t[b]].sqrt() * x0[b] + (1 - abar[t[b]]).sqrt() * noise[b] for b in range(4)])
    assert_close(student.predict_x0_from_eps(xt, t, noise, abar), x0, name=N_("recovered x0"), hint=X0_HINT)


def test_ddpm_step_final_and_middle(student):
    betas = linear_betas()
    eps, xt, noise = randn((2, 3), 7), randn((2, 3), 8), randn((2, 3), 9)
    abar0 = 1 - float(betas[0])
    x0_hat = (xt - math.sqrt(1 - abar0) * eps) / math.sqrt(abar0)
    assert_close(student.ddpm_step(eps, 0, xt, betas, noise), x0_hat,             # no noise at t = 0
                 name=N_("ddpm_step output at t = 0"), hint=FINAL_HINT)
    t = 10
    abar = linear_abar()
    a_t, a_p, b_t = float(abar[t]), float(abar[t - 1]), float(betas[t])
    x0_hat = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    mean = math.sqrt(a_p) * b_t / (1 - a_t) * x0_hat + math.sqrt(1 - b_t) * (1 - a_p) / (1 - a_t) * xt
    expected = mean + math.sqrt((1 - a_p) / (1 - a_t) * b_t) * noise
    assert_close(student.ddpm_step(eps, t, xt, betas, noise), expected,
                 name=N_("ddpm_step output at t = {t}").format(t=t), hint=DDPM_HINT)


def test_diffusion_loss_zero_model(student):
    abar = torch.tensor([0.5], dtype=torch.float64)
    loss = student.diffusion_loss(lambda x, t: torch.zeros_like(x), torch.zeros(2, 3), torch.tensor([0, 0]),
                                  torch.ones(2, 3), abar)
    assert_true(isinstance(loss, torch.Tensor) and loss.dim() == 0,
                N_("diffusion_loss must return a scalar tensor (0-dim): the mean over all elements."), LOSS_HINT)
    assert_close(loss, torch.tensor(1.0), name=N_("diffusion loss of a model that predicts zeros"), hint=LOSS_HINT)


def test_diffusion_loss_small_network(student):
    abar = linear_abar()
    model = TinyEpsModel(3, seed=0)
    x0, noise = randn((4, 3, 4, 4), 10, torch.float32), randn((4, 3, 4, 4), 11, torch.float32)
    t = torch.tensor([0, 3, 17, 49])
    xt = torch.stack([abar[t[b]].sqrt().float() * x0[b] + (1 - abar[t[b]]).sqrt().float() * noise[b]
                      for b in range(4)])
    expected = ((model(xt, t) - noise) ** 2).mean()
    assert_close(student.diffusion_loss(model, x0, t, noise, abar), expected,
                 name=N_("diffusion loss of a small network"), hint=LOSS_HINT)


def test_ddim_step_eta0_ignores_noise(student):
    abar = linear_abar()
    eps, xt = randn((2, 4), 12), randn((2, 4), 13)
    a_t, a_p = float(abar[30]), float(abar[20])
    x0_hat = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    expected = math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p) * eps
    assert_close(student.ddim_step(eps, 30, 20, xt, abar, eta=0.0, noise=randn((2, 4), 14)), expected,
                 name=N_("ddim_step output with eta = 0"), hint=ETA0_HINT)
    assert_close(student.ddim_step(eps, 30, -1, xt, abar), x0_hat,            # t_prev < 0: abar = 1
                 name=N_("ddim_step output for t_prev < 0"), hint=TPREV_HINT + N_("; then x_prev = x0_hat"))


def test_classifier_free_guidance_scales(student):
    u, c = randn((2, 3), 15), randn((2, 3), 16)
    assert_close(student.classifier_free_guidance(u, c, 0.0), u, name=N_("guidance at scale 0"), hint=CFG_HINT)
    assert_close(student.classifier_free_guidance(u, c, 1.0), c, name=N_("guidance at scale 1"), hint=CFG_HINT)
    assert_close(student.classifier_free_guidance(u, c, 3.0), u + 3.0 * (c - u), name=N_("guidance at scale 3"),
                 hint=CFG_HINT)


def test_timestep_embedding_small(student):
    emb = student.timestep_embedding(torch.tensor([0, 1]), 5)
    check_tensor(emb, N_("timestep_embedding output"), torch.float32, (2, 5), EMB_HINT)
    freqs = [1.0, 10000 ** -0.5]
    expected = torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0],
                             [math.sin(freqs[0]), math.sin(freqs[1]), math.cos(freqs[0]), math.cos(freqs[1]), 0.0]])
    assert_close(emb, expected, name=N_("timestep_embedding output"), hint=EMB_HINT)


class _RecordingModel:
    """TinyEpsModel that remembers the timesteps it was called with."""

    def __init__(self, channels, dtype):
        self.net = TinyEpsModel(channels, seed=3, dtype=dtype)
        self.timesteps = []

    def __call__(self, x, t):
        self.timesteps.append(torch.as_tensor(t).tolist())
        with torch.no_grad():
            return self.net(x, t)


def test_ddpm_sample_small_chain(student):
    betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    model = _RecordingModel(2, torch.float64)
    got = student.ddpm_sample(model, (2, 2, 3), betas, torch.Generator().manual_seed(17), dtype=torch.float64)
    expected_calls = [[2, 2], [1, 1], [0, 0]]           # t = T-1, ..., 0, a LongTensor (B,) each
    assert_true(model.timesteps == expected_calls,
                N_("your ddpm_sample called the model with the timesteps {seen}; expected {expected} (one call per "
                   "step, t = T-1, ..., 0, as a LongTensor (B,)).").format(seen=model.timesteps[:6],
                                                                          expected=expected_calls),
                TIMESTEP_HINT)
    # the same chain written out: x_T, then one noise draw per step t > 0, from the same generator
    g = torch.Generator().manual_seed(17)
    x = torch.randn((2, 2, 3), generator=g, dtype=torch.float64)
    for t in (2, 1, 0):
        eps = model.net(x, torch.full((2,), t))
        a_prev = abar[t - 1] if t > 0 else torch.tensor(1.0, dtype=torch.float64)
        x0_hat = (x - (1 - abar[t]).sqrt() * eps) / abar[t].sqrt()
        mean = a_prev.sqrt() * betas[t] / (1 - abar[t]) * x0_hat + (1 - betas[t]).sqrt() * (1 - a_prev) / (1 - abar[t]) * x
        if t > 0:
            x = mean + ((1 - a_prev) / (1 - abar[t]) * betas[t]).sqrt() * torch.randn((2, 2, 3), generator=g, dtype=torch.float64)
        else:
            x = mean
    assert_close(got, x.detach(), name=N_("ddpm_sample output"), hint=DDPM_SAMPLE_HINT)


def test_ddim_sample_leading_timesteps(student):
    abar = linear_abar()                                  # T = 50
    model = _RecordingModel(3, torch.float32)
    got = student.ddim_sample(model, (2, 3, 4), abar, 5, torch.Generator().manual_seed(18))
    check_tensor(got, N_("ddim_sample output"), torch.float32, (2, 3, 4), DDIM_SAMPLE_HINT)
    seen = [ts[0] if isinstance(ts, list) and ts else ts for ts in model.timesteps]
    expected_t = [40, 30, 20, 10, 0]
    # leading spacing: ratio = T // num_steps = 10
    assert_true(seen == expected_t, N_("your ddim_sample called the model at t = {seen}... for T = {T} and num_steps "
                                       "= {num_steps}; expected t = {expected}...").format(
                                           seen=seen[:6], T=T, num_steps=5, expected=expected_t), LEADING_HINT)
    # eta = 0: the only random draw is x_T; then deterministic DDIM steps to t_prev = t - 10
    x = torch.randn((2, 3, 4), generator=torch.Generator().manual_seed(18), dtype=torch.float32)
    for t in (40, 30, 20, 10, 0):
        eps = model.net(x, torch.full((2,), t))
        a_t, a_p = float(abar[t]), (float(abar[t - 10]) if t >= 10 else 1.0)
        x0_hat = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        x = math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p) * eps
    # five float32 steps written differently here: 1e-4 (not float32's 1e-5) absolute
    assert_close(got, x.detach(), name=N_("ddim_sample output"), hint=DDIM_SAMPLE_HINT,
                 tol=Tol(rtol=1e-4, atol=1e-4))
