# mutant: noise added at t = 0 too, with abar_{t-1} taken as abar[t - 1] (wraps to abar[T-1])
# expect: t = 0


def ddpm_step(eps, t, xt, betas, noise):
    t = int(t)
    coef_x0, coef_xt, variance = _posterior_coefficients(betas)
    abar = alphas_cumprod(betas.to(torch.float64))
    x0 = predict_x0_from_eps(xt, t, eps, abar)
    mean = _gather(coef_x0, t, xt) * x0 + _gather(coef_xt, t, xt) * xt
    abar_prev = abar[t - 1]                      # at t = 0 this wraps around to abar[T-1]
    var = betas.to(torch.float64)[t] * (1 - abar_prev) / (1 - abar[t])
    return mean + float(var.sqrt()) * noise
