# mutant: vae_loss puts beta on the reconstruction term (beta * recon + kl)
# expect: beta weights only the KL
import torch


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    nll = _softplus(recon_logits) - x * recon_logits
    recon = nll.flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar)
    return beta * recon + kl, recon, kl
