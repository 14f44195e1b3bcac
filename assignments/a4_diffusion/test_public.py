"""Public tests for a4_diffusion: small checks you can run yourself.

    python grade.py check a4_diffusion path/to/a4_diffusion.py
    python -m pytest assignments/a4_diffusion/test_public.py -k q_sample     # one function

Passing these does not guarantee full marks: the hidden tests check many more inputs,
closed forms, dtypes, ranks and speed.
"""
import math

import pytest
import torch

from shared.models_a4 import TinyEpsModel
from shared.strategies import randint, randn

pytestmark = pytest.mark.visibility("visible")

T = 50


def linear_betas():
    return torch.linspace(1e-4, 0.02, T, dtype=torch.float64)


def linear_abar():
    return torch.cumprod(1 - linear_betas(), 0)


def test_linear_beta_schedule_endpoints(student):
    betas = student.linear_beta_schedule(T)
    assert betas.dtype == torch.float64 and betas.shape == (T,)
    torch.testing.assert_close(betas, linear_betas())


def test_cosine_beta_schedule_formula(student):
    f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
    expected = torch.tensor([min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=torch.float64)
    betas = student.cosine_beta_schedule(T)
    assert betas.dtype == torch.float64 and betas.shape == (T,)
    torch.testing.assert_close(betas, expected)
    assert float(betas[-1]) == 0.999, "the last beta must be clipped at max_beta"


def test_alphas_cumprod_small(student):
    betas = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    torch.testing.assert_close(student.alphas_cumprod(betas), torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64))


def test_q_sample_per_sample_timesteps(student):
    abar = linear_abar()
    x0, noise = randn((3, 2, 4, 4), 0, torch.float32), randn((3, 2, 4, 4), 1, torch.float32)
    t = torch.tensor([0, 10, T - 1])
    out = student.q_sample(x0, t, noise, abar)
    assert out.dtype == torch.float32 and out.shape == x0.shape
    for b in range(3):          # (a loop is fine in a test; your code should not need one)
        a = float(abar[t[b]])
        torch.testing.assert_close(out[b], math.sqrt(a) * x0[b] + math.sqrt(1 - a) * noise[b])


def test_q_sample_any_rank(student):
    abar = linear_abar()
    for shape in [(4, 3), (4, 2, 3), (4, 2, 3, 3), (4, 1, 2, 3, 3)]:
        x0, noise = randn(shape, 2), randn(shape, 3)
        t = randint((4,), 4, 0, T)
        out = student.q_sample(x0, t, noise, abar)
        assert out.shape == shape
        torch.testing.assert_close(out[1], abar[t[1]].sqrt() * x0[1] + (1 - abar[t[1]]).sqrt() * noise[1])


def test_q_posterior_mean_variance_small(student):
    betas = torch.tensor([0.5, 0.5], dtype=torch.float64)
    x0, xt = torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)
    mean, var = student.q_posterior_mean_variance(x0, xt, torch.tensor([0, 1]), betas)
    assert var.shape == (2, 1)
    torch.testing.assert_close(var[:, 0], torch.tensor([0.0, 1 / 3], dtype=torch.float64))
    # t = 1: sqrt(alpha_1) (1 - abar_0) / (1 - abar_1) = sqrt(0.5) * 0.5 / 0.75
    torch.testing.assert_close(mean[1], torch.full((3,), math.sqrt(0.5) * 0.5 / 0.75, dtype=torch.float64))
    torch.testing.assert_close(mean[0], x0[0])


def test_predict_x0_from_eps_roundtrip(student):
    abar = linear_abar()
    x0, noise = randn((4, 3, 2), 5), randn((4, 3, 2), 6)
    t = torch.tensor([0, 5, 20, T - 1])
    xt = torch.stack([abar[t[b]].sqrt() * x0[b] + (1 - abar[t[b]]).sqrt() * noise[b] for b in range(4)])
    torch.testing.assert_close(student.predict_x0_from_eps(xt, t, noise, abar), x0)


def test_ddpm_step_final_and_middle(student):
    betas = linear_betas()
    eps, xt, noise = randn((2, 3), 7), randn((2, 3), 8), randn((2, 3), 9)
    abar0 = 1 - float(betas[0])
    x0_hat = (xt - math.sqrt(1 - abar0) * eps) / math.sqrt(abar0)
    torch.testing.assert_close(student.ddpm_step(eps, 0, xt, betas, noise), x0_hat)   # no noise at t = 0
    t = 10
    abar = linear_abar()
    a_t, a_p, b_t = float(abar[t]), float(abar[t - 1]), float(betas[t])
    x0_hat = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    mean = math.sqrt(a_p) * b_t / (1 - a_t) * x0_hat + math.sqrt(1 - b_t) * (1 - a_p) / (1 - a_t) * xt
    expected = mean + math.sqrt((1 - a_p) / (1 - a_t) * b_t) * noise
    torch.testing.assert_close(student.ddpm_step(eps, t, xt, betas, noise), expected)


def test_diffusion_loss_zero_model(student):
    abar = torch.tensor([0.5], dtype=torch.float64)
    loss = student.diffusion_loss(lambda x, t: torch.zeros_like(x), torch.zeros(2, 3), torch.tensor([0, 0]),
                                  torch.ones(2, 3), abar)
    assert loss.dim() == 0
    torch.testing.assert_close(loss, torch.tensor(1.0))


def test_diffusion_loss_small_network(student):
    abar = linear_abar()
    model = TinyEpsModel(3, seed=0)
    x0, noise = randn((4, 3, 4, 4), 10, torch.float32), randn((4, 3, 4, 4), 11, torch.float32)
    t = torch.tensor([0, 3, 17, 49])
    xt = torch.stack([abar[t[b]].sqrt().float() * x0[b] + (1 - abar[t[b]]).sqrt().float() * noise[b]
                      for b in range(4)])
    expected = ((model(xt, t) - noise) ** 2).mean()
    torch.testing.assert_close(student.diffusion_loss(model, x0, t, noise, abar), expected)


def test_ddim_step_eta0_ignores_noise(student):
    abar = linear_abar()
    eps, xt = randn((2, 4), 12), randn((2, 4), 13)
    a_t, a_p = float(abar[30]), float(abar[20])
    x0_hat = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    expected = math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p) * eps
    torch.testing.assert_close(student.ddim_step(eps, 30, 20, xt, abar, eta=0.0, noise=randn((2, 4), 14)), expected)
    torch.testing.assert_close(student.ddim_step(eps, 30, -1, xt, abar), x0_hat)    # t_prev < 0: abar = 1


def test_classifier_free_guidance_scales(student):
    u, c = randn((2, 3), 15), randn((2, 3), 16)
    torch.testing.assert_close(student.classifier_free_guidance(u, c, 0.0), u)
    torch.testing.assert_close(student.classifier_free_guidance(u, c, 1.0), c)
    torch.testing.assert_close(student.classifier_free_guidance(u, c, 3.0), u + 3.0 * (c - u))


def test_timestep_embedding_small(student):
    emb = student.timestep_embedding(torch.tensor([0, 1]), 5)
    assert emb.shape == (2, 5) and emb.dtype == torch.float32
    freqs = [1.0, 10000 ** -0.5]
    expected = torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0],
                             [math.sin(freqs[0]), math.sin(freqs[1]), math.cos(freqs[0]), math.cos(freqs[1]), 0.0]])
    torch.testing.assert_close(emb, expected)


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
    assert model.timesteps == [[2, 2], [1, 1], [0, 0]], "the model is called at t = T-1, ..., 0 (LongTensor (B,))"
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
    torch.testing.assert_close(got, x.detach())


def test_ddim_sample_leading_timesteps(student):
    abar = linear_abar()                                  # T = 50
    model = _RecordingModel(3, torch.float32)
    got = student.ddim_sample(model, (2, 3, 4), abar, 5, torch.Generator().manual_seed(18))
    assert got.shape == (2, 3, 4) and got.dtype == torch.float32
    assert [ts[0] for ts in model.timesteps] == [40, 30, 20, 10, 0], "leading spacing: ratio = T // num_steps = 10"
    # eta = 0: the only random draw is x_T; then deterministic DDIM steps to t_prev = t - 10
    x = torch.randn((2, 3, 4), generator=torch.Generator().manual_seed(18), dtype=torch.float32)
    for t in (40, 30, 20, 10, 0):
        eps = model.net(x, torch.full((2,), t))
        a_t, a_p = float(abar[t]), (float(abar[t - 10]) if t >= 10 else 1.0)
        x0_hat = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        x = math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p) * eps
    torch.testing.assert_close(got, x.detach(), rtol=1e-4, atol=1e-4)
