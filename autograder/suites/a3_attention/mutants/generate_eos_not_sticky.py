# mutant: generate stops when every row has produced eos, but a finished row keeps sampling new tokens
# expect: eos
edit("generate", r"""
next_ids = torch.where(finished, torch.full_like(next_ids, int(eos_token_id)), next_ids)
""", "")
