# mutant: cycle-consistency loss uses the squared error instead of L1
# expect: L1
import torch


def cycle_consistency_loss(real_a: torch.Tensor, rec_a: torch.Tensor, real_b: torch.Tensor,
                           rec_b: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    return weight * (((rec_a - real_a) ** 2).mean() + ((rec_b - real_b) ** 2).mean())
