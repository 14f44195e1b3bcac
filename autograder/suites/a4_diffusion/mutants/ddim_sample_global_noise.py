# mutant: ddim_sample leaves the eta > 0 noise to ddim_step (noise=None: torch.randn_like, the global RNG)
# expect: generator
edit("ddim_sample", r"""
noise = torch.randn(shape, generator=generator, dtype=dtype) if eta > 0 else None
x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=noise)
""", r"""
x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=None)
""")
