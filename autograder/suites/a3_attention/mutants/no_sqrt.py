# mutant: scores not scaled by 1/sqrt(d_k)
# expect: sqrt
import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v with a keep-mask; fully masked rows give zeros."""
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-2, -1))
    if mask is None:
        weights = torch.softmax(scores, dim=-1)
    else:
        allowed = _allowed(mask, q.device)
        any_allowed = allowed.any(dim=-1, keepdim=True)
        neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
        scores = torch.where(allowed, scores, neg_inf)
        # rows with nothing to attend: softmax of a constant row (finite), zeroed below
        scores = torch.where(any_allowed, scores, torch.zeros((), dtype=scores.dtype, device=scores.device))
        weights = torch.softmax(scores, dim=-1)
        weights = torch.where(any_allowed, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
    return torch.matmul(weights, v), weights
