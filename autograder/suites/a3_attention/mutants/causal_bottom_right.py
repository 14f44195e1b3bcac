# mutant: causal mask aligned at the bottom-right corner (j <= i + Lk - Lq)
# expect: top-left
import torch


def causal_mask(length_q, length_k=None, device=None):
    """Bool (Lq, Lk), True where key j <= query i (top-left aligned)."""
    length_k = length_q if length_k is None else length_k
    rows = torch.arange(length_q, device=device).unsqueeze(1)
    cols = torch.arange(length_k, device=device).unsqueeze(0)
    return cols <= rows + (length_k - length_q)
