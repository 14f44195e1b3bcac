# mutant: gram_matrix divides by H*W only (forgets the channel count in the C*H*W normalisation)
# expect: C*H*W
import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (h * w)
