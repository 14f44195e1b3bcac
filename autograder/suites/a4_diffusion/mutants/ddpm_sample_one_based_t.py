# mutant: ddpm_sample gives the model 1-based timesteps (t + 1), as the DDPM paper counts
# expect: 0-based


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    shape = tuple(shape)
    T = betas.shape[0]
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for t in range(T - 1, -1, -1):
        eps = model(x, torch.full((shape[0],), t + 1, dtype=torch.long).clamp(max=T - 1))
        noise = torch.randn(shape, generator=generator, dtype=dtype) if t > 0 else torch.zeros(shape, dtype=dtype)
        x = ddpm_step(eps, t, x, betas, noise)
    return x
