# mutant: saturating and non-saturating generator losses swapped
# expect: saturating
import torch


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    if not saturating:
        return -_softplus(fake_logits).mean()          # mean log(1 - D(G(z)))
    return _softplus(-fake_logits).mean()              # -mean log D(G(z))
