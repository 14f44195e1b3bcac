# mutant: ddim_sample starts at T - 1 and steps down by ratio (trailing spacing), not at (num_steps - 1) * ratio
# expect: leading


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, dtype=torch.float32):
    shape = tuple(shape)
    T = alphas_cumprod.shape[0]
    ratio = T // int(num_steps)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for i in range(int(num_steps)):
        t = T - 1 - i * ratio
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        noise = torch.randn(shape, generator=generator, dtype=dtype) if eta > 0 else None
        x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=noise)
    return x
