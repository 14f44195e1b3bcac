# mutant: ddim_sample steps from t to t - 1 instead of t - ratio (it visits the right timesteps but jumps wrongly)
# expect: t_prev


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    shape = tuple(shape)
    T = alphas_cumprod.shape[0]
    ratio = T // int(num_steps)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for i in range(int(num_steps) - 1, -1, -1):
        t = i * ratio
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        noise = torch.randn(shape, generator=generator, dtype=dtype) if eta > 0 else None
        x = ddim_step(eps, t, t - 1, x, alphas_cumprod, eta=eta, noise=noise)
    return x
