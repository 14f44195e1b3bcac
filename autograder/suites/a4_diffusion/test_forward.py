"""Task 1.4: the forward process q(x_t | x_0) (q_sample), its broadcasting and its speed."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.suites.a4_diffusion.strategies import pinned_threads  # noqa: F401 (fixture)
from autograder.suites.a4_diffusion.strategies import (abar_for, batch_shapes, check, kinds, loosen_for, num_steps,
                                                       view_b)
from shared.devices import DEVICES
from shared.strategies import float_dtypes, randint, randn, seeds
from shared.i18n import N_
from shared.hints_a4 import Q_HINT


ONE_BASED = N_("Your result matches abar[t - 1]: timesteps are 0-based (t = 0 is the first noising step, abar_0 = 1 - "
               "beta_0).")
NO_SQRT = N_("Your result matches abar_t * x0: the signal coefficient is sqrt(abar_t), not abar_t.")
NO_SQRT_NOISE = N_("Your result matches (1 - abar_t) * noise: the noise coefficient is sqrt(1 - abar_t).")


def q_sample_mistakes(x0, t, noise, abar):
    """Results of the usual mistakes, for the diagnosis in the hint."""
    a = view_b(abar[t], x0)
    a1 = view_b(abar[t - 1], x0)      # 1-based lookup (wraps to the last entry at t = 0)
    return [(a1.sqrt() * x0 + (1 - a1).sqrt() * noise, ONE_BASED),
            (a * x0 + (1 - a).sqrt() * noise, NO_SQRT),
            (a.sqrt() * x0 + (1 - a) * noise, NO_SQRT_NOISE)]


@pytest.mark.task("1.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "broadcasting")
@pytest.mark.parametrize("rank", [2, 3, 4, 5], ids=lambda r: f"{r}-D")
@given(data=st.data(), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes)
def test_q_sample_matches_reference(student, reference, rank, data, seed, kind, T, dtype):
    """1.4 q_sample matches the reference; t broadcasts over inputs of any rank"""
    shape = data.draw(batch_shapes(rank))
    abar = abar_for(kind, T)
    x0, noise = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    t = randint((shape[0],), seed + 2, 0, T)
    expected = reference.q_sample(x0, t, noise, abar)
    check(student.q_sample(x0, t, noise, abar), expected, name=N_("q_sample output"), hint=Q_HINT,
          mistakes=q_sample_mistakes(x0, t, noise, abar), loosen=loosen_for(dtype))


@pytest.mark.task("1.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "closed-form")
@given(seed=seeds, kind=kinds, T=num_steps)
def test_q_sample_closed_form(student, seed, kind, T):
    """1.4 q_sample equals sqrt(abar_t) x0 + sqrt(1 - abar_t) noise per sample (t = 0 and t = T-1 included)"""
    abar = abar_for(kind, T)
    x0, noise = randn((5, 3, 2, 2), seed), randn((5, 3, 2, 2), seed + 1)
    t = torch.tensor([0, T - 1, int(randint((), seed + 2, 0, T)), 0, T // 2])
    expected = torch.stack([math.sqrt(abar[i]) * x0[b] + math.sqrt(1 - abar[i]) * noise[b]
                            for b, i in enumerate(t.tolist())])
    check(student.q_sample(x0, t, noise, abar), expected, name=N_("q_sample output"), hint=Q_HINT,
          mistakes=q_sample_mistakes(x0, t, noise, abar))


@pytest.mark.task("1.4")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.usefixtures("pinned_threads")
def test_q_sample_speed(perf, device):
    """1.4 q_sample is vectorized over the batch (speed against the reference)"""
    # many small images: the reference takes ~10-20 ms on one thread, a Python loop over
    # the 16384 samples ~0.4 s (20x+).  Seeded blocks are tiled along the batch (drawing
    # 3M float64 normals would cost more than the check itself).
    shape = (16384, 3, 8, 8)
    x0 = randn((1024, *shape[1:]), 0, torch.float32, device).repeat(16, 1, 1, 1)
    noise = randn((1024, *shape[1:]), 1, torch.float32, device).repeat(16, 1, 1, 1)
    t = randint((shape[0],), 2, 0, 1000, device)
    abar = abar_for("linear", 1000, device)
    perf.check("q_sample", x0, t, noise, abar,
               hint=N_("vectorize: gather abar[t] for the whole batch at once and broadcast it as (B, 1, ..., 1); "
                       "no Python loop over samples"))
