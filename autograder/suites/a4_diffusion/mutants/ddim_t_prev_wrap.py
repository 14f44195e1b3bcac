# mutant: DDIM looks up abar[t_prev] even when t_prev < 0 (wraps to the end of the schedule)
# expect: t_prev
import math
import torch


def ddim_step(eps, t, t_prev, xt, alphas_cumprod, eta=0.0, noise=None):
    t, t_prev = int(t), int(t_prev)
    abar = alphas_cumprod.to(torch.float64)
    a_t = float(abar[t])
    a_prev = float(abar[t_prev])
    sigma2 = eta ** 2 * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    x0 = (xt - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    out = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma2, 0.0)) * eps
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(xt)
        out = out + math.sqrt(sigma2) * noise
    return out
