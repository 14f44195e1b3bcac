# mutant: lm_loss takes log(softmax(z)): -inf / NaN once a probability underflows (logits of 1e4)
# expect: logsumexp
import torch


def lm_loss(logits, tokens, ignore_index=-100):
    V = logits.shape[-1]
    scores = logits[:, :-1, :].reshape(-1, V)
    targets = tokens[:, 1:].reshape(-1).to(torch.long)
    counted = targets != ignore_index
    safe_targets = torch.where(counted, targets, torch.zeros_like(targets))
    log_probs = torch.log(torch.softmax(scores, dim=-1))
    nll = -log_probs.gather(1, safe_targets[:, None]).squeeze(1)
    nll = torch.where(counted, nll, torch.zeros_like(nll))
    return nll.sum() / counted.sum()
