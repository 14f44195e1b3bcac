# mutant: lm_loss zeroes the ignored targets but still divides by every position, B * (L - 1)
# expect: ignore_index
import torch


def lm_loss(logits, tokens, ignore_index=-100):
    V = logits.shape[-1]
    scores = logits[:, :-1, :].reshape(-1, V)
    targets = tokens[:, 1:].reshape(-1).to(torch.long)
    counted = targets != ignore_index
    safe_targets = torch.where(counted, targets, torch.zeros_like(targets))
    nll = torch.logsumexp(scores, dim=-1) - scores.gather(1, safe_targets[:, None]).squeeze(1)
    nll = torch.where(counted, nll, torch.zeros_like(nll))
    return nll.mean()
