# mutant: reparameterize uses logvar as the standard deviation
# expect: reparameterization
import torch


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    return mu + logvar * noise
