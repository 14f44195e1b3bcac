"""a5_gan, a correct but slow submission: every GAN loss loops over the samples in Python.
Values and gradients are right; the speed checks fail (a loop over ~1e6 logits).  The VAE
and style-transfer functions are vectorized."""
import math

import torch
from torch import nn


def _softplus_one(v):
    # stable log(1 + exp(v)) for one element
    return torch.clamp(v, min=0) + torch.log1p(torch.exp(-torch.abs(v)))


def discriminator_loss(real_logits, fake_logits):
    real = real_logits.reshape(-1)
    fake = fake_logits.reshape(-1)
    total_real = 0
    for i in range(real.shape[0]):
        total_real = total_real + _softplus_one(-real[i])
    total_fake = 0
    for i in range(fake.shape[0]):
        total_fake = total_fake + _softplus_one(fake[i])
    return total_real / real.shape[0] + total_fake / fake.shape[0]


def generator_loss(fake_logits, saturating=False):
    fake = fake_logits.reshape(-1)
    total = 0
    for i in range(fake.shape[0]):
        total = total + (-_softplus_one(fake[i]) if saturating else _softplus_one(-fake[i]))
    return total / fake.shape[0]


def lsgan_discriminator_loss(real_out, fake_out):
    return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean()


def lsgan_generator_loss(fake_out):
    return 0.5 * ((fake_out - 1) ** 2).mean()


def cycle_consistency_loss(real_a, rec_a, real_b, rec_b, weight=10.0):
    return weight * ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean())


def dcgan_init_(module):
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def reparameterize(mu, logvar, noise):
    return mu + torch.exp(0.5 * logvar) * noise


def gaussian_kl(mu, logvar):
    per_sample = []
    for b in range(mu.shape[0]):
        kl = 0
        for d in range(mu.shape[1]):
            kl = kl - 0.5 * (1 + logvar[b, d] - mu[b, d] ** 2 - torch.exp(logvar[b, d]))
        per_sample.append(kl)
    return torch.stack(per_sample).mean()


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, nc=3, ndf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def vae_loss(recon_logits, x, mu, logvar, beta=1.0):
    # vectorized (the slow part of this submission is the GAN losses)
    nll = torch.logaddexp(recon_logits, torch.zeros_like(recon_logits)) - x * recon_logits
    recon = nll.flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl


def gram_matrix(features):
    b, c, h, w = features.shape
    f = features.flatten(2)
    return f @ f.transpose(-1, -2) / (c * h * w)


def style_loss(gen_features, style_features, weights=None):
    weights = [1.0] * len(gen_features) if weights is None else weights
    return sum(w * (gram_matrix(g) - gram_matrix(s)).square().mean()
               for w, g, s in zip(weights, gen_features, style_features))
