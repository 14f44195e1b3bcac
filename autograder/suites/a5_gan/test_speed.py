"""Hidden speed checks: the losses are vectorized (no Python loop over batch items).

The reference takes ~8-15 ms on one CPU thread for these inputs (one logit per sample, as
the DCGAN discriminator returns, so a per-sample loop is a loop over ~1e6 items); a
per-sample loop takes seconds and is stopped after its budget.  Thresholds come from assignment.toml [perf].
The Discriminator's forward pass is timed through perf.check_forward (both models built
in their workers with the same weights, in eval mode) on a batch of many small images, where
a loop over images costs about 5x.
"""

import pytest
import torch

from shared.devices import DEVICES
from shared.strategies import randn
from shared.i18n import N_




VECTORIZE = (N_("vectorize: compute the stable log(1 + exp(x)) on the whole logits tensor at once, then .mean(); "
                "no Python loop over batch items"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_discriminator_loss_speed(perf, device):
    """1.1 discriminator_loss is vectorized (a large batch of logits)"""
    real = randn((2 ** 21,), 0, torch.float32, device, scale=4.0)
    fake = randn((2 ** 21,), 1, torch.float32, device, scale=4.0)
    perf.check("discriminator_loss", real, fake, hint=VECTORIZE)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_generator_loss_speed(perf, device):
    """1.2 generator_loss is vectorized (a large batch of logits)"""
    fake = randn((2 ** 22,), 2, torch.float32, device, scale=4.0)
    perf.check("generator_loss", fake, hint=VECTORIZE)


@pytest.mark.task("4.2")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_gaussian_kl_speed(perf, device):
    """4.2 gaussian_kl is vectorized (large batch of latent codes)"""
    mu = randn((8192, 512), 3, torch.float32, device)
    logvar = randn((8192, 512), 4, torch.float32, device, scale=0.5)
    perf.check("gaussian_kl", mu, logvar,
               hint=N_("vectorize: one elementwise expression over (B, D), then sum over D and mean over B; no "
                       "Python loop over batch items"))


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_discriminator_forward_speed(perf, device):
    """3.3 the Discriminator's forward pass handles the whole batch at once"""
    images = randn((128, 3, 64, 64), 3, torch.float32, device)
    perf.check_forward("Discriminator", images, init={"nc": 3, "ndf": 8}, threshold=3.0,
                       hint=N_("vectorize: run every layer on the whole batch (B, nc, 64, 64); no Python loop over "
                               "the images of the batch"))
