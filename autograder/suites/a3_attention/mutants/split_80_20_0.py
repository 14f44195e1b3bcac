# mutant: BERT split 80/20/0: the 10% 'unchanged' share is replaced by random ids
# expect: 80/10/10
import torch


def mask_tokens(tokens, vocab_size, mask_token_id, generator, mask_prob=0.15, special_token_ids=()):
    """BERT's masked-language-model corruption (15% chosen; 80% [MASK], 10% random, 10% kept)."""
    shape, device = tokens.shape, tokens.device
    special = torch.zeros(shape, dtype=torch.bool)
    cpu_tokens = tokens.detach().to("cpu")
    for sid in special_token_ids:
        special |= cpu_tokens == int(sid)
    # all draws on the CPU generator, so results do not depend on the device
    chosen = (torch.rand(shape, generator=generator, dtype=torch.float64) < mask_prob) & ~special
    split = torch.rand(shape, generator=generator, dtype=torch.float64)
    random_ids = torch.randint(0, vocab_size, shape, generator=generator, dtype=torch.long)
    to_mask = chosen & (split < 0.8)
    to_random = chosen & (split >= 0.8)
    inputs = cpu_tokens.clone()
    inputs[to_mask] = mask_token_id
    inputs[to_random] = random_ids[to_random].to(inputs.dtype)
    labels = torch.where(chosen, cpu_tokens.to(torch.long), torch.full_like(cpu_tokens, -100, dtype=torch.long))
    return inputs.to(device), labels.to(device)
