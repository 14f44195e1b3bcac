# mutant: sample_next_token passes the generator only when top-k / top-p filter; plain temperature sampling uses the global RNG
# expect: generator
import torch


def sample_next_token(logits, generator, temperature=1.0, top_k=None, top_p=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits.detach().to(torch.float64) / temperature
    if top_k is None and top_p is None:
        probs = torch.softmax(scores, dim=-1).to("cpu")
        return torch.multinomial(probs, 1).squeeze(-1).to(logits.device)
    V = scores.shape[-1]
    neg_inf = float("-inf")
    if top_k is not None and top_k < V:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, neg_inf)
    if top_p is not None and top_p < 1.0:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        sorted_probs = torch.softmax(sorted_scores, dim=-1)
        mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        drop_sorted = mass_before >= top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, neg_inf)
    probs = torch.softmax(scores, dim=-1).to("cpu")
    ids = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return ids.to(logits.device)
