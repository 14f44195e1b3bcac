# mutant: GAN losses as log(sigmoid(x)) / log(1 - sigmoid(x)): log(0) at large logits
# expect: stable


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return (-torch.log(torch.sigmoid(real_logits))).mean() + (-torch.log(1 - torch.sigmoid(fake_logits))).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    if saturating:
        return torch.log(1 - torch.sigmoid(fake_logits)).mean()
    return -torch.log(torch.sigmoid(fake_logits)).mean()
