# mutant: generate calls sample_next_token only on the rows that have not finished (the generator's stream shifts)
# expect: whole batch
edit("generate", r"""
next_ids = sample_next_token(logits, generator, temperature=temperature, top_k=top_k, top_p=top_p)
next_ids = next_ids.to(device=tokens.device, dtype=torch.long)
""", r"""
next_ids = torch.full((tokens.shape[0],), -1 if eos_token_id is None else int(eos_token_id),
                      dtype=torch.long, device=tokens.device)
active = ~finished
next_ids[active] = sample_next_token(logits[active], generator, temperature=temperature, top_k=top_k,
                                     top_p=top_p).to(device=tokens.device, dtype=torch.long)
""")
edit("generate", r"""
next_ids = torch.where(finished, torch.full_like(next_ids, int(eos_token_id)), next_ids)
""", "")
