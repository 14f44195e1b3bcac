# mutant: gram_matrix multiplies F^T F (positions against positions) instead of F F^T (channels against channels)
# expect: channels against channels
import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return torch.bmm(f.transpose(1, 2), f) / (c * h * w)
