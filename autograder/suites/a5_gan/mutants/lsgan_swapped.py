# mutant: LSGAN discriminator targets swapped (real -> 0, fake -> 1)
# expect: LSGAN
import torch


def lsgan_discriminator_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    return 0.5 * (real_out ** 2).mean() + 0.5 * ((fake_out - 1) ** 2).mean()
