# mutant: signal coefficient abar_t instead of sqrt(abar_t) in q_sample
# expect: sqrt
import torch


def q_sample(x0, t, noise, alphas_cumprod):
    abar = alphas_cumprod.to(torch.float64)
    return _gather(abar, t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise
