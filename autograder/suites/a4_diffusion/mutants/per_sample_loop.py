# mutant: correct values, but q_sample and ddpm_step loop over the batch in Python
# expect: vectorize
import torch


def q_sample(x0, t, noise, alphas_cumprod):
    out = torch.empty_like(x0)
    for b in range(x0.shape[0]):
        a = alphas_cumprod[int(t[b])]
        out[b] = torch.sqrt(a) * x0[b] + torch.sqrt(1 - a) * noise[b]
    return out


def ddpm_step(eps, t, xt, betas, noise):
    t = int(t)
    coef_x0, coef_xt, variance = _posterior_coefficients(betas)
    abar = alphas_cumprod(betas.to(torch.float64))
    x0 = predict_x0_from_eps(xt, t, eps, abar)
    mean = _gather(coef_x0, t, xt) * x0 + _gather(coef_xt, t, xt) * xt
    if t == 0:
        return mean
    out = torch.empty_like(xt)
    sd = variance[t].sqrt()
    for b in range(xt.shape[0]):
        out[b] = mean[b] + sd * noise[b]
    return out
