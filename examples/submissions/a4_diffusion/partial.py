"""Example partial submission: Task 1 and 3.2 done, the rest is still the stub.

Assignment a4_diffusion: DDPM / DDIM building blocks.

Implement every function below; see README.md for the background.  Conventions:

* Timesteps are **0-based**: ``t in [0, T)``.  ``abar_t = prod_{s=0..t} (1 - beta_s)``
  and, by convention, ``abar_{-1} = 1`` (the clean data).
* Schedules (betas, alphas_cumprod) are float64 tensors of length ``T``.
* Every output keeps the dtype and device of its (main) tensor input, e.g. float32
  images give float32 results even though the schedule is float64.
* ``t`` for a batch is a LongTensor of shape ``(B,)``: one timestep per sample, to be
  broadcast over the remaining dimensions of inputs of any rank ``(B, ...)``.
* Vectorize: no Python loops over batch items or elements (speed is graded).

Run the public tests with ``python grade.py check a4_diffusion path/to/a4_diffusion.py``.
"""
from __future__ import annotations

import math

import torch


def _per_sample(values, t, like):
    values = values.to(like.device).index_select(0, t.to(like.device).long())
    return values.view(values.shape[0], *([1] * (like.ndim - 1))).to(like.dtype)
import torch.nn.functional as F


# ---------------------------------------------------------------------------
# Task 1: the forward process (순방향 과정)
# ---------------------------------------------------------------------------
def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    if T == 1:
        return torch.tensor([beta_start], dtype=torch.float64)
    step = (beta_end - beta_start) / (T - 1)
    betas = beta_start + step * torch.arange(T, dtype=torch.float64)
    betas[-1] = beta_end
    return betas


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    def f(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return torch.tensor([min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)], dtype=torch.float64)


def alphas_cumprod(betas):
    return torch.exp(torch.cumsum(torch.log1p(-betas), dim=0)) if betas.dtype == torch.float64 \
        else torch.cumprod(1.0 - betas, 0)


def q_sample(x0, t, noise, alphas_cumprod):
    a = _per_sample(alphas_cumprod, t, x0)
    return torch.sqrt(a) * x0 + torch.sqrt(1.0 - a) * noise


def q_posterior_mean_variance(x0, xt, t, betas):
    """Task 2.1: mean and variance of the forward-process posterior ``q(x_{t-1} | x_t, x_0)``.

    With ``alpha_t = 1 - beta_t`` and ``abar_{-1} = 1`` (DDPM paper, eq. 6-7):

        mean     = sqrt(abar_{t-1}) * beta_t / (1 - abar_t) * x0
                 + sqrt(alpha_t) * (1 - abar_{t-1}) / (1 - abar_t) * xt
        variance = beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) * beta_t

    At t = 0 this gives mean = x0 and variance = 0.

    Shapes:
        x0, xt: ``(B, ...)``; t: LongTensor ``(B,)``; betas: float64 ``(T,)``.

    Example:
        >>> betas = torch.tensor([0.5, 0.5], dtype=torch.float64)
        >>> m, v = q_posterior_mean_variance(torch.zeros(1, 3), torch.ones(1, 3), torch.tensor([1]), betas)
        >>> v.shape, float(v)          # (1 - 0.5) / (1 - 0.25) * 0.5
        (torch.Size([1, 1]), 0.3333333432674408)

    Args:
        x0: clean data.
        xt: noisy data at step t.
        t: timesteps (0-based).
        betas: the schedule.

    Returns:
        (mean, variance): ``mean`` shaped like ``xt``; ``variance`` shaped ``(B, 1, ..., 1)``
        (same rank as ``xt``); both in ``xt``'s dtype and device.
    """
    raise NotImplementedError("Task 2.1: q_posterior_mean_variance")


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    """Task 2.2: invert ``q_sample`` given the (predicted) noise.

        x0_hat = (xt - sqrt(1 - abar_t) * eps) / sqrt(abar_t)

    Shapes:
        xt, eps: ``(B, ...)``; t: LongTensor ``(B,)``; alphas_cumprod: float64 ``(T,)``.

    Example:
        >>> abar = torch.tensor([0.25], dtype=torch.float64)
        >>> predict_x0_from_eps(torch.ones(1, 2), torch.tensor([0]), torch.zeros(1, 2), abar)
        tensor([[2., 2.]])

    Args:
        xt: noisy data at step t.
        t: timesteps (0-based).
        eps: predicted noise, same shape as ``xt``.
        alphas_cumprod: the schedule's abar.

    Returns:
        x0_hat: same shape, dtype and device as ``xt``.
    """
    raise NotImplementedError("Task 2.2: predict_x0_from_eps")


def ddpm_step(eps, t, xt, betas, noise):
    """Task 2.3: one ancestral sampling step of DDPM, ``x_t -> x_{t-1}``.

    The whole batch is at the same timestep ``t`` (a Python int), as during sampling:

        x0_hat  = predict_x0_from_eps(xt, t, eps)
        mean    = posterior mean of q(x_{t-1} | xt, x0_hat)      (Task 2.1)
        x_{t-1} = mean + sqrt(beta_tilde_t) * noise    if t > 0
        x_{t-1} = mean                                  if t == 0  (no noise at the final step)

    The variance is the posterior variance beta_tilde_t ("fixed_small"); x0_hat is not
    clipped.  This equals diffusers' ``DDPMScheduler.step`` with ``clip_sample=False``,
    ``variance_type="fixed_small"`` and the same noise.

    Shapes:
        eps, xt, noise: ``(B, ...)``; betas: float64 ``(T,)``.

    Example:
        >>> betas = torch.tensor([0.5, 0.5], dtype=torch.float64)
        >>> ddpm_step(torch.zeros(1, 2), 0, torch.ones(1, 2), betas, torch.ones(1, 2))
        tensor([[1.4142, 1.4142]])

    Args:
        eps: the model's noise prediction at step t.
        t: current timestep (int, 0-based).
        xt: current sample.
        betas: the schedule.
        noise: standard normal noise for the step (ignored at t == 0).

    Returns:
        x_{t-1}: same shape, dtype and device as ``xt``.
    """
    raise NotImplementedError("Task 2.3: ddpm_step")


def diffusion_loss(model, x0, t, noise, alphas_cumprod):
    """Task 2.4: the simplified DDPM training loss (epsilon prediction).

        L = mean( (noise - model(q_sample(x0, t, noise, alphas_cumprod), t))^2 )

    ``model`` is called exactly as ``model(x_t, t)`` and returns a tensor shaped like x_t.

    Example:
        >>> abar = torch.tensor([0.5], dtype=torch.float64)
        >>> zero_model = lambda x, t: torch.zeros_like(x)
        >>> diffusion_loss(zero_model, torch.zeros(2, 3), torch.tensor([0, 0]), torch.ones(2, 3), abar)
        tensor(1.)

    Args:
        model: callable ``eps_theta(x_t, t)``.
        x0: clean data ``(B, ...)``.
        t: LongTensor ``(B,)``.
        noise: standard normal noise shaped like ``x0``.
        alphas_cumprod: the schedule's abar.

    Returns:
        scalar tensor (0-dim) in ``x0``'s dtype, differentiable with respect to ``x0``.
    """
    raise NotImplementedError("Task 2.4: diffusion_loss")


# ---------------------------------------------------------------------------
# Task 3: faster sampling, guidance and the timestep embedding
# ---------------------------------------------------------------------------
def ddim_step(eps, t, t_prev, xt, alphas_cumprod, eta=0.0, noise=None):
    """Task 3.1: one DDIM step (Song et al., 2021), ``x_t -> x_{t_prev}`` with ``t_prev < t``.

    With ``a_t = abar_t`` and ``a_p = abar_{t_prev}`` (``a_p = 1`` when ``t_prev < 0``):

        x0_hat  = (xt - sqrt(1 - a_t) * eps) / sqrt(a_t)
        sigma^2 = eta^2 * (1 - a_p) / (1 - a_t) * (1 - a_t / a_p)
        x_prev  = sqrt(a_p) * x0_hat + sqrt(1 - a_p - sigma^2) * eps + sigma * noise

    ``eta = 0`` is deterministic (``noise`` is ignored); ``eta = 1`` with ``t_prev = t - 1``
    is the DDPM step.  When ``eta > 0`` and ``noise`` is None, draw it with
    ``torch.randn_like(xt)``.  Matches diffusers' ``DDIMScheduler.step`` with
    ``clip_sample=False``, ``set_alpha_to_one=True`` and ``variance_noise=noise``.

    Example:
        >>> abar = torch.tensor([0.25], dtype=torch.float64)
        >>> ddim_step(torch.zeros(1, 2), 0, -1, torch.ones(1, 2), abar)    # -> x0_hat
        tensor([[2., 2.]])

    Args:
        eps: noise prediction at step t, shape ``(B, ...)``.
        t: current timestep (int).
        t_prev: the next timestep of the sampler (int, < t; negative means "clean").
        xt: current sample.
        alphas_cumprod: the schedule's abar.
        eta: 0 for DDIM, 1 for DDPM-like stochasticity.
        noise: standard normal noise shaped like ``xt`` (used only when eta > 0).

    Returns:
        x_{t_prev}: same shape, dtype and device as ``xt``.
    """
    raise NotImplementedError("Task 3.1: ddim_step")


def classifier_free_guidance(eps_uncond, eps_cond, scale):
    return (1 - scale) * eps_uncond + scale * eps_cond


def timestep_embedding(t, dim, max_period=10000):
    """Task 3.3: sinusoidal timestep embedding (as in the DDPM U-Net).

        half  = dim // 2
        freqs = exp(-ln(max_period) * arange(half) / half)          # (half,)
        emb   = cat([sin(t[:, None] * freqs), cos(t[:, None] * freqs)], dim=1)

    When ``dim`` is odd, one column of zeros is appended so the result has ``dim`` columns.

    Example:
        >>> timestep_embedding(torch.tensor([0, 1]), 3)
        tensor([[0.0000, 1.0000, 0.0000],
                [0.8415, 0.5403, 0.0000]])

    Args:
        t: 1-D tensor ``(B,)`` of timesteps (integer or float).
        dim: embedding size.
        max_period: controls the lowest frequency.

    Returns:
        ``(B, dim)`` tensor: ``t``'s dtype when ``t`` is floating point, float32 when ``t``
        is an integer tensor.
    """
    raise NotImplementedError("Task 3.3: timestep_embedding")


# ---------------------------------------------------------------------------
# Task 4: the sampling loops (not done yet)
# ---------------------------------------------------------------------------
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    raise NotImplementedError("Task 4.1: ddpm_sample")


def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    raise NotImplementedError("Task 4.2: ddim_sample")
