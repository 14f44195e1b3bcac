# mutant: ddpm_sample leaves the step noise to ddpm_step (noise=None: torch.randn_like, the global RNG)
# expect: generator


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    shape = tuple(shape)
    T = betas.shape[0]
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for t in range(T - 1, -1, -1):
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        x = ddpm_step(eps, t, x, betas, None)
    return x
