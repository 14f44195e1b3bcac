# mutant: discriminator loss with a Python loop over the logits
# expect: vectorize


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    # BCE(x, 1) = -log sigmoid(x) = softplus(-x);  BCE(x, 0) = -log(1 - sigmoid(x)) = softplus(x)
    real = [_softplus(-v) for v in real_logits.flatten()]
    fake = [_softplus(v) for v in fake_logits.flatten()]
    return torch.stack(real).mean() + torch.stack(fake).mean()
