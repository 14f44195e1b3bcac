"""Reference solution for a4_diffusion (DDPM / DDIM).

Conventions (SPEC section 2, a4_diffusion):
* timesteps are 0-based, ``t in [0, T)``; ``abar_{-1} = 1`` (the clean data);
* schedules are float64 tensors of length ``T``;
* every output keeps the dtype and device of its main tensor input.  Scalar
  coefficients are computed in float64 from the schedule and cast once.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------
# Task 1: the forward process
# ---------------------------------------------------------------------------
def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * (math.pi / 2)) ** 2
    betas = 1 - f[1:] / f[:-1]
    return betas.clamp(max=max_beta)


def alphas_cumprod(betas):
    return torch.cumprod(1 - betas, dim=0)


def _gather(schedule, t, like):
    """``schedule[t]`` shaped ``(B, 1, ..., 1)`` to broadcast against ``like``,
    in ``like``'s dtype and device (``t`` a LongTensor ``(B,)`` or a Python int)."""
    schedule = schedule.to(device=like.device)
    if isinstance(t, int):
        return schedule[t].to(like.dtype)
    t = torch.as_tensor(t, device=like.device).long()
    return schedule[t].to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


def _abar_prev(alphas_cumprod):
    """``abar_{t-1}`` for every t, with ``abar_{-1} = 1``."""
    return torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod[:-1]])


def q_sample(x0, t, noise, alphas_cumprod):
    abar = alphas_cumprod.to(torch.float64)
    return _gather(abar.sqrt(), t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise


# ---------------------------------------------------------------------------
# Task 2: the reverse process
# ---------------------------------------------------------------------------
def _posterior_coefficients(betas):
    betas = betas.to(torch.float64)
    abar = alphas_cumprod(betas)
    abar_prev = _abar_prev(abar)
    coef_x0 = abar_prev.sqrt() * betas / (1 - abar)
    coef_xt = (1 - betas).sqrt() * (1 - abar_prev) / (1 - abar)
    variance = betas * (1 - abar_prev) / (1 - abar)
    return coef_x0, coef_xt, variance


def q_posterior_mean_variance(x0, xt, t, betas):
    coef_x0, coef_xt, variance = _posterior_coefficients(betas)
    mean = _gather(coef_x0, t, xt) * x0 + _gather(coef_xt, t, xt) * xt
    return mean, _gather(variance, t, xt)


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    abar = alphas_cumprod.to(torch.float64)
    return _gather((1 / abar).sqrt(), t, xt) * xt - _gather((1 / abar - 1).sqrt(), t, xt) * eps


def ddpm_step(eps, t, xt, betas, noise):
    t = int(t)
    coef_x0, coef_xt, variance = _posterior_coefficients(betas)
    abar = alphas_cumprod(betas.to(torch.float64))
    # predict_x0_from_eps takes per-sample timesteps (a LongTensor (B,)), as its contract says
    x0 = predict_x0_from_eps(xt, torch.full((xt.shape[0],), t, dtype=torch.long, device=xt.device), eps, abar)
    mean = _gather(coef_x0, t, xt) * x0 + _gather(coef_xt, t, xt) * xt
    if t == 0:
        return mean
    if noise is None:
        noise = torch.randn_like(xt)
    return mean + _gather(variance.sqrt(), t, xt) * noise


def diffusion_loss(model, x0, t, noise, alphas_cumprod):
    xt = q_sample(x0, t, noise, alphas_cumprod)
    return F.mse_loss(model(xt, t), noise)


# ---------------------------------------------------------------------------
# Task 3: faster sampling, guidance, timestep embedding
# ---------------------------------------------------------------------------
def ddim_step(eps, t, t_prev, xt, alphas_cumprod, eta=0.0, noise=None):
    t, t_prev = int(t), int(t_prev)
    abar = alphas_cumprod.to(torch.float64)
    a_t = float(abar[t])
    a_prev = float(abar[t_prev]) if t_prev >= 0 else 1.0
    sigma2 = eta ** 2 * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    x0 = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    out = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma2, 0.0)) * eps
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(xt)
        out = out + math.sqrt(sigma2) * noise
    return out


def classifier_free_guidance(eps_uncond, eps_cond, scale):
    return eps_uncond + scale * (eps_cond - eps_uncond)


def timestep_embedding(t, dim, max_period=10000):
    t = torch.as_tensor(t)
    dtype = t.dtype if t.dtype.is_floating_point else torch.get_default_dtype()
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64, device=t.device) / half)
    args = t.to(torch.float64).reshape(-1, 1) * freqs
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, emb.new_zeros(emb.shape[0], 1)], dim=1)
    return emb.to(dtype)


# ---------------------------------------------------------------------------
# Task 4: the sampling loops
# ---------------------------------------------------------------------------
@torch.no_grad()                    # sampling needs no gradients; a graph over T steps would only cost memory
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    shape = tuple(shape)
    T = betas.shape[0]
    # the order of the draws is part of the contract (diffusers' DDPMScheduler loop draws the
    # same way): x_T first, then one noise tensor per step t > 0, all from ``generator``
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for t in range(T - 1, -1, -1):          # the chain is sequential: one model call per step
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        if t > 0:
            noise = torch.randn(shape, generator=generator, dtype=dtype)
        else:
            noise = torch.zeros(shape, dtype=dtype)     # ddpm_step adds no noise at t = 0; nothing drawn
        x = ddpm_step(eps, t, x, betas, noise)
    return x


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    shape = tuple(shape)
    T = alphas_cumprod.shape[0]
    num_steps = int(num_steps)
    if not 1 <= num_steps <= T:
        raise ValueError(f"num_steps must be in [1, {T}], got {num_steps}")
    ratio = T // num_steps
    # diffusers' timestep_spacing="leading": (num_steps-1)*ratio, ..., ratio, 0; t_prev = t - ratio
    # (negative at the last step: abar = 1, the clean data)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for i in range(num_steps - 1, -1, -1):
        t = i * ratio
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        noise = torch.randn(shape, generator=generator, dtype=dtype) if eta > 0 else None
        x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=noise)
    return x
