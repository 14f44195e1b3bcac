# mutant: top-p drops the token that crosses the threshold (keeps cumsum < top_p)
# expect: top-p
import torch


def sample_next_token(logits, generator, temperature=1.0, top_k=None, top_p=None):
    """One token id per row: temperature, then top-k, then top-p (nucleus), then sample."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits.detach().to(torch.float64) / temperature
    V = scores.shape[-1]
    neg_inf = float("-inf")
    if top_k is not None and top_k < V:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, neg_inf)
    if top_p is not None and top_p < 1.0:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        sorted_probs = torch.softmax(sorted_scores, dim=-1)
        mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        drop_sorted = torch.cumsum(sorted_probs, dim=-1) >= top_p
        drop_sorted[..., 0] = False                       # always keep the most probable token
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, neg_inf)
    probs = torch.softmax(scores, dim=-1).to("cpu")
    ids = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return ids.to(logits.device)
