"""Hidden speed checks: the losses are vectorized (no Python loop over batch items).

The reference takes ~5-15 ms on one CPU thread for these inputs (one logit per sample, as
the DCGAN discriminator returns, so a per-sample loop is a loop over ~1e6 items); a
per-sample loop takes seconds and is stopped after its budget.  Thresholds come from assignment.toml [perf].
Not covered: the Discriminator's forward pass (perf.check times functions only; the
networks are nn.Sequential stacks of torch layers, where a loop is not a realistic risk).
"""
import pytest
import torch

from shared.devices import DEVICES
from shared.strategies import randn

pytestmark = pytest.mark.visibility("hidden")

VECTORIZE = ("vectorize: compute the stable log(1 + exp(x)) on the whole logits tensor at once, "
             "then .mean(); no Python loop over batch items")


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_discriminator_loss_speed(perf, device):
    """1.1 discriminator_loss is vectorized (a large batch of logits)"""
    real = randn((2 ** 20,), 0, torch.float32, device, scale=4.0)
    fake = randn((2 ** 20,), 1, torch.float32, device, scale=4.0)
    perf.check("discriminator_loss", real, fake, hint=VECTORIZE)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_generator_loss_speed(perf, device):
    """1.2 generator_loss is vectorized (a large batch of logits)"""
    fake = randn((2 ** 21,), 2, torch.float32, device, scale=4.0)
    perf.check("generator_loss", fake, hint=VECTORIZE)


@pytest.mark.task("4.2")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_gaussian_kl_speed(perf, device):
    """4.2 gaussian_kl is vectorized (large batch of latent codes)"""
    mu = randn((4096, 128), 3, torch.float32, device)
    logvar = randn((4096, 128), 4, torch.float32, device, scale=0.5)
    perf.check("gaussian_kl", mu, logvar,
               hint="vectorize: one elementwise expression over (B, D), then sum over D and mean over B; "
                    "no Python loop over batch items")
