"""a5_gan reference: adversarial and variational losses, DCGAN 64x64, the style loss.

Every loss takes raw logits and is written in the numerically stable
log-sum-exp form, so values and gradients stay finite for logits up to +-1e4.
"""
from __future__ import annotations

import torch
from torch import nn


def _softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(x)) = log(exp(0) + exp(x)), as a log-sum-exp: torch.logaddexp subtracts the
    larger argument before exponentiating (max(x, 0) + log1p(exp(-|x|))), so nothing overflows,
    and its gradient sigmoid(x) is exact everywhere (also at x = 0)."""
    return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    # BCE(x, 1) = -log sigmoid(x) = softplus(-x);  BCE(x, 0) = -log(1 - sigmoid(x)) = softplus(x)
    return _softplus(-real_logits).mean() + _softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    if saturating:
        return -_softplus(fake_logits).mean()          # mean log(1 - D(G(z)))
    return _softplus(-fake_logits).mean()              # -mean log D(G(z))


def lsgan_discriminator_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean()


def lsgan_generator_loss(fake_out: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake_out - 1) ** 2).mean()


def cycle_consistency_loss(real_a: torch.Tensor, rec_a: torch.Tensor, real_b: torch.Tensor,
                           rec_b: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    return weight * ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean())


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def dcgan_init_(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, _CONV):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, _NORM):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    return mu + torch.exp(0.5 * logvar) * noise


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    kl = -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar))
    return kl.flatten(1).sum(1).mean()


class Generator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),        # 1 -> 4
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),   # 4 -> 8
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),   # 8 -> 16
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),       # 16 -> 32
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),            # 32 -> 64
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, nc: int = 3, ndf: int = 64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),                     # 64 -> 32
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),                # 32 -> 16
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),            # 16 -> 8
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),            # 8 -> 4
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),                  # 4 -> 1: one logit
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    # Bernoulli negative log-likelihood from logits l:  -[x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))]
    #   = x softplus(-l) + (1 - x) softplus(l) = softplus(l) - x l      (softplus(-l) = softplus(l) - l)
    # one stable softplus, so values and gradients (sigmoid(l) - x) stay finite for |l| up to 1e4
    nll = _softplus(recon_logits) - x * recon_logits
    recon = nll.flatten(1).sum(1).mean()           # summed over the features of a sample, averaged over the batch
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)               # one row per channel: its response at every position
    # G[b, i, j] = <F_i, F_j>: which channels fire together, wherever they fire (position is summed out)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def style_loss(gen_features, style_features, weights=None) -> torch.Tensor:
    if weights is None:
        weights = [1.0] * len(gen_features)
    if not (len(gen_features) == len(style_features) == len(weights)):
        raise ValueError(f"got {len(gen_features)} generated, {len(style_features)} style feature maps "
                         f"and {len(weights)} weights; one of each per layer")
    total = gen_features[0].new_zeros(())
    for w, gen, style in zip(weights, gen_features, style_features):
        # a style feature map of batch 1 (one style image) broadcasts over the generated batch
        total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()
    return total
