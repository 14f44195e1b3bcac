# mutant: mask convention inverted (True treated as 'masked', like nn.MultiheadAttention)
# expect: mask
import torch


def _allowed(mask: torch.Tensor, device) -> torch.Tensor:
    """A bool mask (True = may attend) from a bool or 0/1 mask."""
    mask = mask.to(device)
    return ~mask if mask.dtype == torch.bool else mask == 0
