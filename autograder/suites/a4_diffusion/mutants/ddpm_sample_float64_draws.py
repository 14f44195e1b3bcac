# mutant: ddpm_sample draws its noise in float64 and casts it to dtype (other numbers than randn in dtype)
# expect: dtype
edit("ddpm_sample", "x = torch.randn(shape, generator=generator, dtype=dtype)",
                    "x = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)")
edit("ddpm_sample", "noise = torch.randn(shape, generator=generator, dtype=dtype)",
                    "noise = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)")
