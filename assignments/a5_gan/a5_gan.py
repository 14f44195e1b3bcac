"""Assignment a5_gan: adversarial and variational losses, the DCGAN 64x64 networks and
the style loss of neural style transfer.

Fill in every function and class below; the task numbers match README.md and the
grader's feedback.  Check your work with

    python grade.py check a5_gan path/to/a5_gan.py

Rules that hold for every function:
  * inputs are float32 or float64 tensors; outputs keep the input dtype and device;
  * the losses take RAW logits (before any sigmoid) and return a scalar (0-dim) tensor;
  * the GAN losses and vae_loss must stay finite -- values and gradients -- for logits up to +-1e4;
  * not allowed in the losses (vae_loss included): torch.nn.functional.binary_cross_entropy_with_logits,
    torch.nn.BCEWithLogitsLoss, torch.nn.functional.binary_cross_entropy, torch.nn.BCELoss,
    torch.nn.functional.softplus / torch.nn.Softplus and torch.nn.functional.logsigmoid:
    write the stable log-sum-exp form yourself (torch.logaddexp, exp, log1p, clamp are fine);
  * vectorize: no Python loops over batch items or elements (there are speed checks).
"""
from __future__ import annotations

import torch
from torch import nn


# --------------------------------------------------------------------------------------
# Task 1: the GAN losses (binary cross-entropy on logits, written stably)
# --------------------------------------------------------------------------------------
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Task 1.1: the discriminator (판별자) loss of the original GAN.

    With D(x) = sigmoid(logit) the probability "real":

        L_D = BCE(real_logits, 1) + BCE(fake_logits, 0)
            = mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits)))

    i.e. the SUM of two means (each over all elements of its own tensor).  Use
    -log sigmoid(x) = log(1 + exp(-x)) and -log(1 - sigmoid(x)) = log(1 + exp(x)), and
    compute log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)) so that nothing overflows.

    Args:
        real_logits: Float[Tensor, "*R"] raw discriminator outputs on real images (any shape).
        fake_logits: Float[Tensor, "*F"] raw outputs on generated images (any shape; may
            have a different number of elements than ``real_logits``).

    Returns:
        Float[Tensor, ""] scalar loss, same dtype/device as the inputs.  Finite (with finite
        gradients) for logits as large as +-1e4.

    Example:
        >>> discriminator_loss(torch.zeros(4), torch.zeros(2))   # 2 * log 2
        tensor(1.3863)
    """
    raise NotImplementedError("Task 1.1: discriminator_loss")


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Task 1.2: the generator (생성자) loss, non-saturating (default) or saturating.

        non-saturating (saturating=False):  L_G = BCE(fake_logits, 1) = -mean log D(G(z))
        saturating     (saturating=True):   L_G = -BCE(fake_logits, 0) = mean log(1 - D(G(z)))

    The saturating loss is the literal min-max objective; its gradient d/dz = -sigmoid(z)/N
    vanishes when the discriminator confidently rejects the fakes (z << 0), early in
    training.  The non-saturating loss has gradient (sigmoid(z) - 1)/N, which is largest
    exactly there.  Both must be computed stably (log-sum-exp form), as in Task 1.1.

    Args:
        fake_logits: Float[Tensor, "*F"] raw discriminator outputs on generated images.
        saturating: pick the saturating loss instead of the non-saturating one.

    Returns:
        Float[Tensor, ""] scalar loss (dtype/device of ``fake_logits``).

    Example:
        >>> generator_loss(torch.zeros(3))                    # log 2
        tensor(0.6931)
        >>> generator_loss(torch.zeros(3), saturating=True)   # -log 2
        tensor(-0.6931)
    """
    raise NotImplementedError("Task 1.2: generator_loss")


# --------------------------------------------------------------------------------------
# Task 2: LSGAN and CycleGAN
# --------------------------------------------------------------------------------------
def lsgan_discriminator_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """Task 2.1: least-squares GAN discriminator loss (targets: real -> 1, fake -> 0).

        L_D = 0.5 * mean((real_out - 1)^2) + 0.5 * mean(fake_out^2)

    Args:
        real_out: Float[Tensor, "*R"] raw discriminator outputs on real images (no sigmoid).
        fake_out: Float[Tensor, "*F"] raw discriminator outputs on generated images.

    Returns:
        Float[Tensor, ""] scalar loss.

    Example:
        >>> lsgan_discriminator_loss(torch.ones(2), torch.zeros(2))
        tensor(0.)
    """
    raise NotImplementedError("Task 2.1: lsgan_discriminator_loss")


def lsgan_generator_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """Task 2.2: least-squares GAN generator loss (the generator wants fakes scored 1).

        L_G = 0.5 * mean((fake_out - 1)^2)

    Args:
        fake_out: Float[Tensor, "*F"] raw discriminator outputs on generated images.

    Returns:
        Float[Tensor, ""] scalar loss.

    Example:
        >>> lsgan_generator_loss(torch.zeros(2))
        tensor(0.5000)
    """
    raise NotImplementedError("Task 2.2: lsgan_generator_loss")


def cycle_consistency_loss(real_a: torch.Tensor, rec_a: torch.Tensor, real_b: torch.Tensor,
                           rec_b: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """Task 2.3: CycleGAN's cycle-consistency loss (사이클 일관성 손실).

    With generators G: A -> B and F: B -> A, rec_a = F(G(real_a)) and rec_b = G(F(real_b)):

        L_cyc = weight * ( mean|rec_a - real_a| + mean|rec_b - real_b| )

    (L1, i.e. mean absolute error, over all elements of each pair.)

    Args:
        real_a, rec_a: Float[Tensor, "B C H W"] images of domain A and their reconstructions.
        real_b, rec_b: Float[Tensor, "B2 C2 H2 W2"] images of domain B and their reconstructions.
        weight: lambda, the weight of the cycle term (10 in the CycleGAN paper).

    Returns:
        Float[Tensor, ""] scalar loss.

    Example:
        >>> x = torch.zeros(1, 3, 2, 2)
        >>> cycle_consistency_loss(x, x + 0.5, x, x, weight=10.0)
        tensor(5.)
    """
    raise NotImplementedError("Task 2.3: cycle_consistency_loss")


# --------------------------------------------------------------------------------------
# Task 3: DCGAN
# --------------------------------------------------------------------------------------
def dcgan_init_(module: nn.Module) -> nn.Module:
    """Task 3.1: the DCGAN weight initialisation, applied IN PLACE to every submodule.

      * every convolution and transposed convolution (Conv1d/2d/3d, ConvTranspose1d/2d/3d):
        weight ~ N(0, 0.02)  (mean 0, standard deviation 0.02);
      * every batch norm (BatchNorm1d/2d/3d): weight ~ N(1, 0.02), bias = 0.

    Other layers are left as they are.  Use the global torch RNG (torch.nn.init.normal_
    does), so that torch.manual_seed(...) makes the result reproducible.

    Args:
        module: an nn.Module (e.g. a Generator or Discriminator, or any nn.Sequential).

    Returns:
        the same ``module`` object (so ``net = dcgan_init_(Generator())`` works).

    Example:
        >>> net = dcgan_init_(nn.Sequential(nn.Conv2d(3, 8, 4), nn.BatchNorm2d(8)))
        >>> float(net[1].bias.abs().max())
        0.0
    """
    raise NotImplementedError("Task 3.1: dcgan_init_")


class Generator(nn.Module):
    """Task 3.2: the DCGAN generator for 64x64 images.

    Maps noise z of shape (B, nz, 1, 1) to images (B, nc, 64, 64) in [-1, 1]:

        ConvTranspose2d(nz,    ngf*8, 4, 1, 0) + BatchNorm2d + ReLU     ->  (ngf*8,  4,  4)
        ConvTranspose2d(ngf*8, ngf*4, 4, 2, 1) + BatchNorm2d + ReLU     ->  (ngf*4,  8,  8)
        ConvTranspose2d(ngf*4, ngf*2, 4, 2, 1) + BatchNorm2d + ReLU     ->  (ngf*2, 16, 16)
        ConvTranspose2d(ngf*2, ngf,   4, 2, 1) + BatchNorm2d + ReLU     ->  (ngf,   32, 32)
        ConvTranspose2d(ngf,   nc,    4, 2, 1) + Tanh                   ->  (nc,    64, 64)

    All transposed convolutions have bias=False (batch norm supplies the shift).  Keep the
    layers in this order and create them in __init__ in this order (the grader loads its
    own weights into your model, matching parameters in order).

    Args:
        nz: length of the latent vector z.
        ngf: number of feature maps of the last hidden layer.
        nc: number of image channels.

    Example:
        >>> Generator(nz=100, ngf=64, nc=3)(torch.randn(2, 100, 1, 1)).shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        raise NotImplementedError("Task 3.2: Generator")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: Float[Tensor, "B nz 1 1"] -> Float[Tensor, "B nc 64 64"] in [-1, 1]."""
        raise NotImplementedError("Task 3.2: Generator")


class Discriminator(nn.Module):
    """Task 3.3: the DCGAN discriminator for 64x64 images, returning raw LOGITS.

        Conv2d(nc,    ndf,   4, 2, 1) + LeakyReLU(0.2)                  ->  (ndf,   32, 32)
        Conv2d(ndf,   ndf*2, 4, 2, 1) + BatchNorm2d + LeakyReLU(0.2)    ->  (ndf*2, 16, 16)
        Conv2d(ndf*2, ndf*4, 4, 2, 1) + BatchNorm2d + LeakyReLU(0.2)    ->  (ndf*4,  8,  8)
        Conv2d(ndf*4, ndf*8, 4, 2, 1) + BatchNorm2d + LeakyReLU(0.2)    ->  (ndf*8,  4,  4)
        Conv2d(ndf*8, 1,     4, 1, 0)                                   ->  (1,      1,  1)

    then flattened to shape (B,).  All convolutions have bias=False.  There is NO Sigmoid at
    the end: the losses of Task 1 take logits and apply the (stable) log-sigmoid themselves.
    Create the layers in this order (the grader matches parameters in order).

    Args:
        nc: number of image channels.
        ndf: number of feature maps of the first layer.

    Example:
        >>> Discriminator(nc=3, ndf=64)(torch.randn(5, 3, 64, 64)).shape
        torch.Size([5])
    """

    def __init__(self, nc: int = 3, ndf: int = 64):
        super().__init__()
        raise NotImplementedError("Task 3.3: Discriminator")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: Float[Tensor, "B nc 64 64"] -> Float[Tensor, "B"] raw logits."""
        raise NotImplementedError("Task 3.3: Discriminator")


# --------------------------------------------------------------------------------------
# Task 4: the VAE
# --------------------------------------------------------------------------------------
def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Task 4.1: the reparameterization trick of the VAE (변분 오토인코더).

    Sample z ~ N(mu, sigma^2) as a differentiable function of (mu, logvar):

        sigma = exp(0.5 * logvar)          (logvar is log sigma^2, NOT sigma)
        z     = mu + sigma * noise          noise ~ N(0, I), given

    Args:
        mu: Float[Tensor, "B D"] means.
        logvar: Float[Tensor, "B D"] log-variances.
        noise: Float[Tensor, "B D"] standard-normal noise (passed in, so results are reproducible).

    Returns:
        Float[Tensor, "B D"] the sample z; gradients flow to ``mu`` and ``logvar``.

    Example:
        >>> reparameterize(torch.zeros(1, 2), torch.zeros(1, 2), torch.ones(1, 2))
        tensor([[1., 1.]])
    """
    raise NotImplementedError("Task 4.1: reparameterize")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Task 4.2: the VAE's KL term KL(N(mu, sigma^2) || N(0, I)).

    Per feature, with sigma^2 = exp(logvar):

        KL = -0.5 * (1 + logvar - mu^2 - exp(logvar))

    summed over the features (dimension 1) and averaged over the batch (dimension 0).

    Args:
        mu: Float[Tensor, "B D"] means of the approximate posterior q(z|x).
        logvar: Float[Tensor, "B D"] log-variances.

    Returns:
        Float[Tensor, ""] scalar, >= 0, zero exactly when mu = 0 and logvar = 0.

    Example:
        >>> gaussian_kl(torch.ones(2, 3), torch.zeros(2, 3))   # 3 features * 0.5 * 1^2
        tensor(1.5000)
    """
    raise NotImplementedError("Task 4.2: gaussian_kl")


def vae_loss(recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0):
    """Task 4.3: the VAE loss, reconstruction + beta * KL.

    The decoder outputs LOGITS l of a Bernoulli distribution per feature (pixel), and the
    data x lies in [0, 1].  The reconstruction term is the Bernoulli negative
    log-likelihood (= binary cross-entropy with target x), SUMMED over the features of a
    sample and AVERAGED over the batch:

        nll  = -[ x * log sigmoid(l) + (1 - x) * log(1 - sigmoid(l)) ]      per feature
             = softplus(l) - x * l                                           (stable form)
        recon = mean over the batch of (sum over the features of nll)
        kl    = gaussian_kl(mu, logvar)                                      (Task 4.2: call it)
        loss  = recon + beta * kl

    Write softplus(l) = log(1 + exp(l)) in the stable log-sum-exp form of Task 1 (the BCE /
    softplus / logsigmoid functions are not allowed here either): the loss and its gradient
    (sigmoid(l) - x) must stay finite for logits up to +-1e4.

    Args:
        recon_logits: Float[Tensor, "B *D"] decoder logits (any shape with the batch first,
            e.g. (B, C, H, W) or (B, D)).
        x: Float[Tensor, "B *D"] the data, values in [0, 1], same shape as ``recon_logits``.
        mu: Float[Tensor, "B Z"] encoder means.
        logvar: Float[Tensor, "B Z"] encoder log-variances.
        beta: weight of the KL term (beta-VAE; 1 is the plain VAE).

    Returns:
        (loss, recon, kl): three 0-dim tensors with the inputs' dtype and device.

    Example:
        >>> loss, recon, kl = vae_loss(torch.zeros(2, 3), torch.ones(2, 3), torch.zeros(2, 4), torch.zeros(2, 4))
        >>> recon                                  # 3 features * log 2, averaged over 2 samples
        tensor(2.0794)
        >>> kl, loss
        (tensor(0.), tensor(2.0794))
    """
    raise NotImplementedError("Task 4.3: vae_loss")


# --------------------------------------------------------------------------------------
# Task 5: neural style transfer (뉴럴 스타일 전송)
# --------------------------------------------------------------------------------------
def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Task 5.1: the Gram matrix of a batch of feature maps, normalised by C*H*W.

    Flatten each channel of a sample into a row, F = features[b].reshape(C, H*W); then

        G[b] = F @ F^T / (C * H * W)          G[b, i, j] = sum_p F[i, p] F[j, p] / (C*H*W)

    G[b, i, j] says how strongly channels i and j respond TOGETHER, summed over all
    positions p: it keeps the textures (style) and forgets where they are (content).
    One Gram matrix per sample: samples of the batch never mix.

    Args:
        features: Float[Tensor, "B C H W"] feature maps (e.g. a CNN layer's activations).

    Returns:
        Float[Tensor, "B C C"], symmetric, same dtype/device as ``features``.

    Example:
        >>> gram_matrix(torch.ones(1, 2, 2, 2))       # every entry 4 / (2*2*2)
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])
    """
    raise NotImplementedError("Task 5.1: gram_matrix")


def style_loss(gen_features, style_features, weights=None) -> torch.Tensor:
    """Task 5.2: the style loss of neural style transfer (Gatys et al.), over several layers.

        L_style = sum_l  w_l * mean( (gram_matrix(gen_l) - gram_matrix(style_l))^2 )

    where the mean is over all elements of the (B, C_l, C_l) difference, and the weights
    w_l default to 1.  Call your gram_matrix (Task 5.1).

    Args:
        gen_features: list of Float[Tensor, "B C_l H_l W_l"], the generated image's feature
            maps, one per layer.
        style_features: list of Float[Tensor, "B C_l H_l W_l"] (or batch 1: one style image
            for the whole batch; the difference of the Gram matrices broadcasts), the style
            image's feature maps at the same layers.
        weights: list of floats w_l, one per layer, or None (all 1).

    Returns:
        Float[Tensor, ""] scalar loss (dtype/device of the features); gradients flow to
        ``gen_features``.

    Example:
        >>> f = torch.ones(1, 2, 2, 2)
        >>> style_loss([f], [f]), style_loss([f], [2 * f], weights=[0.5])   # Gram of 2f is 4x
        (tensor(0.), tensor(1.1250))
    """
    raise NotImplementedError("Task 5.2: style_loss")
