# mutant: lm_loss calls Tensor.log_softmax (the forbidden op, reached through a method, not F.log_softmax)
# expect: log_softmax
import torch


def lm_loss(logits, tokens, ignore_index=-100):
    V = logits.shape[-1]
    scores = logits[:, :-1, :].reshape(-1, V)
    targets = tokens[:, 1:].reshape(-1).to(torch.long)
    counted = targets != ignore_index
    safe_targets = torch.where(counted, targets, torch.zeros_like(targets))
    nll = -scores.log_softmax(dim=-1).gather(1, safe_targets[:, None]).squeeze(1)
    nll = torch.where(counted, nll, torch.zeros_like(nll))
    return nll.sum() / counted.sum()
