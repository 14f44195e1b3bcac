# mutant: vae_loss averages the reconstruction term over the features too (mean over every element instead of sum per sample)
# expect: summed over the features
import torch


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    nll = _softplus(recon_logits) - x * recon_logits
    recon = nll.mean()
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl
