# mutant: timesteps treated as 1-based: abar looked up at t - 1 in q_sample
# expect: 0-based


def q_sample(x0, t, noise, alphas_cumprod):
    abar = alphas_cumprod.to(torch.float64)
    t = t - 1      # "timestep t means the t-th step", as in the paper's 1..T
    return _gather(abar.sqrt(), t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise
