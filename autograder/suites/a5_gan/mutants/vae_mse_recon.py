# mutant: vae_loss follows the notes' MSE reconstruction (squared error of sigmoid(logits) against x) instead of the Bernoulli NLL
# expect: Bernoulli


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    recon = ((torch.sigmoid(recon_logits) - x) ** 2).flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl
