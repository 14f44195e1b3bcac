# mutant: ddpm_sample leaves the step noise to ddpm_step (noise=None: torch.randn_like, the global RNG)
# expect: generator
edit("ddpm_sample", r"""
if t > 0:
    noise = torch.randn(shape, generator=generator, dtype=dtype)
else:
    noise = torch.zeros(shape, dtype=dtype)     # ddpm_step adds no noise at t = 0; nothing drawn
x = ddpm_step(eps, t, x, betas, noise)
""", r"""
x = ddpm_step(eps, t, x, betas, None)
""")
