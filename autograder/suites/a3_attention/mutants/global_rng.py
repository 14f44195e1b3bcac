# mutant: mask_tokens draws its selection from the global RNG instead of the generator
# expect: generator
edit("mask_tokens", "chosen = (torch.rand(shape, generator=generator, dtype=torch.float64) < mask_prob) & ~special", "chosen = (torch.rand(shape, dtype=torch.float64) < mask_prob) & ~special")
