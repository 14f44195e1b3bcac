# mutant: vae_loss writes the Bernoulli NLL with log(sigmoid(l)) and log(1 - sigmoid(l)) (inf / NaN at large logits)
# expect: stable
import torch


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    p = torch.sigmoid(recon_logits)
    nll = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))
    recon = nll.flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl
