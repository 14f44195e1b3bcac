# mutant: ddim_sample leaves the eta > 0 noise to ddim_step (noise=None: torch.randn_like, the global RNG)
# expect: generator


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    shape = tuple(shape)
    T = alphas_cumprod.shape[0]
    ratio = T // int(num_steps)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for i in range(int(num_steps) - 1, -1, -1):
        t = i * ratio
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=None)
    return x
