# mutant: mask_tokens chooses positions with the generator but draws the 80/10/10 split and the random ids from the global RNG
# expect: generator
import torch


def mask_tokens(tokens, vocab_size, mask_token_id, generator, mask_prob=0.15, special_token_ids=()):
    shape, device = tokens.shape, tokens.device
    special = torch.zeros(shape, dtype=torch.bool)
    cpu_tokens = tokens.detach().to("cpu")
    for sid in special_token_ids:
        special |= cpu_tokens == int(sid)
    chosen = (torch.rand(shape, generator=generator, dtype=torch.float64) < mask_prob) & ~special
    split = torch.rand(shape, dtype=torch.float64)
    random_ids = torch.randint(0, vocab_size, shape, dtype=torch.long)
    to_mask = chosen & (split < 0.8)
    to_random = chosen & (split >= 0.8) & (split < 0.9)
    inputs = cpu_tokens.clone()
    inputs[to_mask] = mask_token_id
    inputs[to_random] = random_ids[to_random].to(inputs.dtype)
    labels = torch.where(chosen, cpu_tokens.to(torch.long), torch.full_like(cpu_tokens, -100, dtype=torch.long))
    return inputs.to(device), labels.to(device)
