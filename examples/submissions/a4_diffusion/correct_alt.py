"""A correct a4_diffusion submission written differently from the reference:
schedules from Python lists / explicit formulas, coefficients gathered with
index_select and view, DDPM written in the diffusers style (alpha-bar ratios),
samplers that build their timestep list with arange / flip."""
import math

import torch


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


def _per_sample(values, t, like):
    values = values.to(like.device).index_select(0, t.to(like.device).long())
    return values.view(values.shape[0], *([1] * (like.ndim - 1))).to(like.dtype)


def q_sample(x0, t, noise, alphas_cumprod):
    a = _per_sample(alphas_cumprod, t, x0)
    return torch.sqrt(a) * x0 + torch.sqrt(1.0 - a) * noise


def q_posterior_mean_variance(x0, xt, t, betas):
    abar = torch.cumprod(1 - betas, 0)
    abar_prev = torch.nn.functional.pad(abar[:-1], (1, 0), value=1.0)
    b = _per_sample(betas, t, xt)
    a = _per_sample(abar, t, xt)
    ap = _per_sample(abar_prev, t, xt)
    mean = (ap.sqrt() * b * x0 + (1 - b).sqrt() * (1 - ap) * xt) / (1 - a)
    return mean, (1 - ap) / (1 - a) * b


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    a = _per_sample(alphas_cumprod, t, xt)
    return (xt - (1 - a).sqrt() * eps) / a.sqrt()


def ddpm_step(eps, t, xt, betas, noise):
    abar = torch.cumprod(1 - betas.double(), 0)
    a_t = abar[t].item()
    a_prev = abar[t - 1].item() if t > 0 else 1.0
    alpha_t = a_t / a_prev
    beta_t = 1 - alpha_t
    x0 = (xt - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
    out = (a_prev ** 0.5 * beta_t / (1 - a_t)) * x0 + (alpha_t ** 0.5 * (1 - a_prev) / (1 - a_t)) * xt
    if t > 0:
        out = out + ((1 - a_prev) / (1 - a_t) * beta_t) ** 0.5 * noise
    return out


def diffusion_loss(model, x0, t, noise, alphas_cumprod):
    pred = model(q_sample(x0, t, noise, alphas_cumprod), t)
    return (pred - noise).pow(2).sum() / noise.numel()


def ddim_step(eps, t, t_prev, xt, alphas_cumprod, eta=0.0, noise=None):
    a_t = alphas_cumprod[t].item()
    a_p = alphas_cumprod[t_prev].item() if t_prev >= 0 else 1.0
    sigma = eta * math.sqrt((1 - a_p) / (1 - a_t) * (1 - a_t / a_p))
    x0 = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    out = math.sqrt(a_p) * x0 + math.sqrt(1 - a_p - sigma ** 2) * eps
    if sigma > 0:
        out = out + sigma * (noise if noise is not None else torch.randn_like(xt))
    return out


def classifier_free_guidance(eps_uncond, eps_cond, scale):
    return (1 - scale) * eps_uncond + scale * eps_cond


def timestep_embedding(t, dim, max_period=10000):
    out_dtype = t.dtype if t.is_floating_point() else torch.float32
    half = dim // 2
    emb = torch.zeros(t.shape[0], dim, dtype=torch.float64, device=t.device)
    if half:
        freqs = max_period ** (-torch.arange(half, dtype=torch.float64, device=t.device) / half)
        args = t.double()[:, None] * freqs[None]
        emb[:, :half] = args.sin()
        emb[:, half:2 * half] = args.cos()
    return emb.to(out_dtype)


def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    batch = shape[0]
    x = torch.randn(*shape, generator=generator, dtype=dtype)
    with torch.no_grad():
        for t in reversed(range(len(betas))):
            eps = model(x, torch.full((batch,), t, dtype=torch.long))
            z = torch.randn(*shape, generator=generator, dtype=dtype) if t > 0 else torch.zeros_like(x)
            x = ddpm_step(eps, t, x, betas, z)
    return x


def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    stride = alphas_cumprod.numel() // num_steps
    timesteps = (torch.arange(num_steps) * stride).flip(0).tolist()
    x = torch.randn(*shape, generator=generator, dtype=dtype)
    with torch.no_grad():
        for t in timesteps:
            eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
            z = torch.randn(*shape, generator=generator, dtype=dtype) if eta > 0 else None
            x = ddim_step(eps, t, t - stride, x, alphas_cumprod, eta, z)
    return x
