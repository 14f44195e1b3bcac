# mutant: ddpm_sample stops at t = 1 (range(T - 1, 0, -1)): the final denoising step at t = 0 is missing
# expect: including t = 0
import torch


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator, dtype=torch.float32):
    shape = tuple(shape)
    T = betas.shape[0]
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for t in range(T - 1, 0, -1):
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        noise = torch.randn(shape, generator=generator, dtype=dtype)
        x = ddpm_step(eps, t, x, betas, noise)
    return x
