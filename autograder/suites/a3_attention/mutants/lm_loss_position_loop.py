# mutant: lm_loss loops over the positions in Python
# expect: vectorize


def lm_loss(logits, tokens, ignore_index=-100):
    total = logits.new_zeros(())
    count = 0
    for i in range(logits.shape[1] - 1):
        z = logits[:, i]
        y = tokens[:, i + 1].to(torch.long)
        keep = y != ignore_index
        nll = torch.logsumexp(z, dim=-1) - z.gather(1, torch.where(keep, y, 0)[:, None]).squeeze(1)
        total = total + torch.where(keep, nll, torch.zeros_like(nll)).sum()
        count = count + keep.sum()
    return total / count
