# mutant: posterior variance beta_t instead of beta_tilde_t (posterior and DDPM step)
# expect: posterior variance
import torch


def _posterior_coefficients(betas):
    betas = betas.to(torch.float64)
    abar = alphas_cumprod(betas)
    abar_prev = _abar_prev(abar)
    coef_x0 = abar_prev.sqrt() * betas / (1 - abar)
    coef_xt = (1 - betas).sqrt() * (1 - abar_prev) / (1 - abar)
    variance = betas.clone()
    return coef_x0, coef_xt, variance
