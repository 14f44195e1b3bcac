# mutant: mask_tokens chooses positions with the generator but draws the 80/10/10 split and the random ids from the global RNG
# expect: generator
edit("mask_tokens", r"""
split = torch.rand(shape, generator=generator, dtype=torch.float64)
random_ids = torch.randint(0, vocab_size, shape, generator=generator, dtype=torch.long)
""", r"""
split = torch.rand(shape, dtype=torch.float64)
random_ids = torch.randint(0, vocab_size, shape, dtype=torch.long)
""")
