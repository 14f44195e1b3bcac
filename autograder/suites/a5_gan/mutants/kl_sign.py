# mutant: KL term with the wrong sign
# expect: KL
import torch


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    kl = 0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar))
    return kl.flatten(1).sum(1).mean()
