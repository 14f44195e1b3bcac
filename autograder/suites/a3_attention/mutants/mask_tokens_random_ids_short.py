# mutant: mask_tokens draws random ids with randint(0, vocab_size - 1): the id vocab_size - 1 never appears
# expect: vocab_size - 1
edit("mask_tokens", "random_ids = torch.randint(0, vocab_size, shape, generator=generator, dtype=torch.long)", "random_ids = torch.randint(0, vocab_size - 1, shape, generator=generator, dtype=torch.long)")
