# mutant: ddpm_sample draws its noise in float64 and casts it to dtype (other numbers than randn in dtype)
# expect: dtype


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    shape = tuple(shape)
    T = betas.shape[0]
    x = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    for t in range(T - 1, -1, -1):
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        noise = (torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype) if t > 0
                 else torch.zeros(shape, dtype=dtype))
        x = ddpm_step(eps, t, x, betas, noise)
    return x
