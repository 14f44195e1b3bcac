"""a5_gan, a correct submission written differently from the reference:
explicit max(x, 0) + log1p(exp(-|x|)), a closed-form KL, a tutorial-style weights_init
applied with Module.apply, networks built from helper blocks under other names, the VAE
loss as x*softplus(-l) + (1-x)*softplus(l), and the Gram matrix with einsum."""
import torch
from torch import nn


def _log1p_exp(x):
    # log(1 + e^x) without overflow: the larger of the two exponents (0 or x) is factored out
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


def discriminator_loss(real_logits, fake_logits):
    loss_real = _log1p_exp(-real_logits).mean()     # -log D(x)
    loss_fake = _log1p_exp(fake_logits).mean()      # -log(1 - D(G(z)))
    return loss_real + loss_fake


def generator_loss(fake_logits, saturating=False):
    if saturating:
        return -(_log1p_exp(fake_logits).mean())
    return _log1p_exp(-fake_logits).mean()


def lsgan_discriminator_loss(real_out, fake_out):
    return ((real_out - 1).pow(2).mean() + fake_out.pow(2).mean()) / 2


def lsgan_generator_loss(fake_out):
    return (fake_out - 1).pow(2).mean() / 2


def cycle_consistency_loss(real_a, rec_a, real_b, rec_b, weight=10.0):
    l1_a = torch.mean(torch.abs(real_a - rec_a))
    l1_b = torch.mean(torch.abs(real_b - rec_b))
    return weight * l1_a + weight * l1_b


def _weights_init(m):
    name = type(m).__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def dcgan_init_(module):
    module.apply(_weights_init)
    return module


def reparameterize(mu, logvar, noise):
    std = (logvar / 2).exp()
    return noise * std + mu


def gaussian_kl(mu, logvar):
    per_feature = 0.5 * (mu * mu + logvar.exp() - 1.0 - logvar)
    return per_feature.sum(dim=1).mean(dim=0)


def _up(cin, cout, stride, pad, last=False):
    layers = [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False)]
    layers += [nn.Tanh()] if last else [nn.BatchNorm2d(cout), nn.ReLU()]
    return layers


def _down(cin, cout, bn=True):
    layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.LeakyReLU(negative_slope=0.2)]


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.net = nn.Sequential(
            *_up(nz, ngf * 8, 1, 0),
            *_up(ngf * 8, ngf * 4, 2, 1),
            *_up(ngf * 4, ngf * 2, 2, 1),
            *_up(ngf * 2, ngf, 2, 1),
            *_up(ngf, nc, 2, 1, last=True),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, nc=3, ndf=64):
        super().__init__()
        self.features = nn.Sequential(
            *_down(nc, ndf, bn=False),
            *_down(ndf, ndf * 2),
            *_down(ndf * 2, ndf * 4),
            *_down(ndf * 4, ndf * 8),
        )
        self.head = nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False)

    def forward(self, x):
        return self.head(self.features(x)).reshape(x.shape[0])


def vae_loss(recon_logits, x, mu, logvar, beta=1.0):
    # -[x log p + (1 - x) log(1 - p)] with log p = -log(1 + e^-l), log(1 - p) = -log(1 + e^l)
    nll = x * _log1p_exp(-recon_logits) + (1 - x) * _log1p_exp(recon_logits)
    recon = nll.reshape(nll.shape[0], -1).sum(dim=1).mean()
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl


def gram_matrix(features):
    b, c, h, w = features.shape
    return torch.einsum("bihw,bjhw->bij", features, features) / (c * h * w)


def style_loss(gen_features, style_features, weights=None):
    terms = []
    for i, (gen, style) in enumerate(zip(gen_features, style_features)):
        w = 1.0 if weights is None else weights[i]
        diff = gram_matrix(gen) - gram_matrix(style)
        terms.append(w * torch.mean(diff * diff))
    return torch.stack(terms).sum()
