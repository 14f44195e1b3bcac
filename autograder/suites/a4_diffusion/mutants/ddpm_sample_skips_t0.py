# mutant: ddpm_sample stops at t = 1 (range(T - 1, 0, -1)): the final denoising step at t = 0 is missing
# expect: including t = 0
edit("ddpm_sample", "for t in range(T - 1, -1, -1):", "for t in range(T - 1, 0, -1):")
edit("ddpm_sample", r"""
if t > 0:
    noise = torch.randn(shape, generator=generator, dtype=dtype)
else:
    noise = torch.zeros(shape, dtype=dtype)     # ddpm_step adds no noise at t = 0; nothing drawn
""", r"""
noise = torch.randn(shape, generator=generator, dtype=dtype)
""")
