# mutant: generate forgets to pass the generator on (sample_next_token draws from the global RNG)
# expect: generator
edit("generate", "next_ids = sample_next_token(logits, generator, temperature=temperature, top_k=top_k, top_p=top_p)", "next_ids = sample_next_token(logits, None, temperature=temperature, top_k=top_k, top_p=top_p)")
