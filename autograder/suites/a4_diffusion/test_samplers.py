"""Task 4.1-4.2: the DDPM and DDIM sampling loops.

Expected samples come from the reference (checked against diffusers' DDPMScheduler /
DDIMScheduler loops in tests/test_a4_reference.py; diffusers is not installed where the
grader runs) fed a generator with the same seed, and from closed forms written here
(the first draw, the timesteps, a deterministic DDIM chain).  The tests substitute the
reference's ddpm_step / ddim_step for the student's (the grader does so for every task
that calls another graded function), so a bug in a step is charged to its own task.  The
noise predictor is a plain callable that stays in the grader and records its calls."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a4_diffusion.strategies import EpsModel, abar_for, batch_shapes, betas_for, kinds
from shared.compare import assert_close, assert_true
from shared.strategies import float_dtypes, generator, seeds
from shared.i18n import N_
from shared.hints_a4 import DDPM_SAMPLE_HINT, DDIM_SAMPLE_HINT, TIMESTEP_HINT, LEADING_HINT


FIRST_DRAW_HINT = (N_("the chain starts from x_T = torch.randn(shape, generator=generator, dtype=dtype): the first "
                      "draw of the generator, in the samples' dtype (drawing in another dtype and casting gives "
                      "other numbers)"))
TPREV_HINT = (N_("each DDIM step goes from t to t_prev = t - ratio (the next timestep of the sampler), not to t - "
                 "1; the last step has t_prev = -ratio < 0 (abar = 1)"))
RNG_HINT = (N_("draw every random number from the generator argument (torch.randn(shape, generator=generator, "
               "dtype=dtype)) and pass it as noise to the step; never torch.randn_like or noise=None (both use the "
               "global RNG)"))


def _ddpm(student, reference, *args, **kwargs):
    with student.substitute({"ddpm_step": reference.ddpm_step}):
        return student.ddpm_sample(*args, **kwargs)


def _ddim(student, reference, *args, **kwargs):
    with student.substitute({"ddim_step": reference.ddim_step}):
        return student.ddim_sample(*args, **kwargs)


# ---- 4.1 ddpm_sample --------------------------------------------------------------------------
@pytest.mark.task("4.1")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "sampling")
@settings(max_examples=10)
@given(shape=batch_shapes(max_batch=4, max_side=4), seed=seeds, kind=kinds, T=st.integers(1, 25),
       dtype=float_dtypes)
def test_ddpm_sample_matches_reference(student, reference, shape, seed, kind, T, dtype):
    """4.1 ddpm_sample equals the reference (= diffusers' DDPMScheduler loop) with the same generator seed"""
    betas = betas_for(kind, T)
    model = EpsModel(torch.cumprod(1 - betas, 0), shape[1], seed + 1)
    expected = reference.ddpm_sample(model, shape, betas, generator(seed), dtype=dtype)
    got = _ddpm(student, reference, model, shape, betas, generator(seed), dtype=dtype)
    # float32: T steps of float32 arithmetic on O(1) samples
    assert_close(got, expected, name=N_("ddpm_sample output"), hint=DDPM_SAMPLE_HINT,
                 loosen=10 if dtype == torch.float32 else 1)


@pytest.mark.task("4.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "protocol")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ddpm_sample_calls(student, reference, dtype):
    """4.1 ddpm_sample starts from randn(shape, generator) and calls the model at t = T-1, ..., 0"""
    T, shape = 12, (3, 2, 4, 4)                             # >= 16 elements: float32 and float64 draws differ
    betas = betas_for("linear", T)
    model = EpsModel(torch.cumprod(1 - betas, 0), 2, 5)
    _ddpm(student, reference, model, shape, betas, generator(6), dtype=dtype)
    assert_true(len(model.calls) == T, N_("your ddpm_sample called the model {calls} times for T = {T} steps; "
                                          "expected once per step.").format(
                                              calls=len(model.calls), T=T), DDPM_SAMPLE_HINT)
    first = torch.randn(shape, generator=generator(6), dtype=dtype)
    assert_close(model.calls[0][0], first, name=N_("x passed to the model at the first step (x_T)"), hint=FIRST_DRAW_HINT)
    for i, (_, t) in enumerate(model.calls):
        assert_close(t, torch.full((shape[0],), T - 1 - i, dtype=torch.long),
                     name=N_("timesteps passed to the model at call {call}").format(call=i + 1),
                     hint=TIMESTEP_HINT)


@pytest.mark.task("4.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "closed-form")
def test_ddpm_sample_single_step(student, reference):
    """4.1 ddpm_sample with T = 1 is one step at t = 0 from x_T, without noise"""
    betas = torch.tensor([0.3], dtype=torch.float64)
    model = EpsModel(1 - betas, 3, 7)
    x = torch.randn((4, 3, 5), generator=generator(8), dtype=torch.float64)
    expected = (x - math.sqrt(0.3) * model.eps(x, torch.zeros(4, dtype=torch.long))) / math.sqrt(0.7)
    got = _ddpm(student, reference, model, (4, 3, 5), betas, generator(8), dtype=torch.float64)
    assert_close(got, expected, name=N_("ddpm_sample output (T = 1)"),
                 hint=N_("at t = 0 the step returns the posterior mean, which is x0_hat = (x - sqrt(1 - abar_0) "
                         "eps) / sqrt(abar_0): no noise is added; ") + DDPM_SAMPLE_HINT)


@pytest.mark.task("4.1")
@pytest.mark.points(2)
@pytest.mark.tags("reproducibility", "generator")
def test_ddpm_sample_uses_only_generator(student, reference):
    """4.1 ddpm_sample: the same generator seed gives the same samples whatever the global RNG, another seed not"""
    T, shape = 10, (2, 3, 4, 4)
    betas = betas_for("cosine", T)
    abar = torch.cumprod(1 - betas, 0)
    results = []
    for global_seed, gen_seed in ((1234, 21), (99, 21), (1234, 22)):
        with student.global_seed(global_seed):
            results.append(_ddpm(student, reference, EpsModel(abar, 3, 23), shape, betas, generator(gen_seed)))
    assert_true(torch.equal(results[0], results[1]), N_("two calls with generators seeded the same gave different "
                                                        "samples under different states of the global random "
                                                        "generators."), RNG_HINT)
    assert_true(not torch.equal(results[0], results[2]), N_("generators with different seeds gave the same samples."),
                RNG_HINT)


# ---- 4.2 ddim_sample --------------------------------------------------------------------------
@st.composite
def ddim_settings(draw):
    T = draw(st.integers(1, 60))
    return T, draw(st.integers(1, T))


@pytest.mark.task("4.2")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "sampling")
@settings(max_examples=12)
@given(shape=batch_shapes(max_batch=4, max_side=4), seed=seeds, kind=kinds, steps=ddim_settings(), dtype=float_dtypes,
       eta=st.sampled_from([0.0, 0.5, 1.0]))
def test_ddim_sample_matches_reference(student, reference, shape, seed, kind, steps, dtype, eta):
    """4.2 ddim_sample equals the reference (= diffusers' DDIMScheduler loop, leading spacing) with the same seed"""
    T, num_steps = steps
    abar = abar_for(kind, T)
    model = EpsModel(abar, shape[1], seed + 1)
    expected = reference.ddim_sample(model, shape, abar, num_steps, generator(seed), eta=eta, dtype=dtype)
    got = _ddim(student, reference, model, shape, abar, num_steps, generator(seed), eta=eta, dtype=dtype)
    assert_close(got, expected, name=N_("ddim_sample output"), hint=DDIM_SAMPLE_HINT,
                 loosen=10 if dtype == torch.float32 else 1)


@pytest.mark.task("4.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "timesteps")
@pytest.mark.parametrize("T,num_steps", [(1000, 50), (100, 7), (30, 30), (10, 1)])
def test_ddim_sample_leading_timesteps(student, reference, T, num_steps):
    """4.2 ddim_sample visits the leading timesteps (num_steps-1)*ratio, ..., ratio, 0"""
    abar = abar_for("linear", T)
    model = EpsModel(abar, 2, 31)
    _ddim(student, reference, model, (2, 2, 3), abar, num_steps, generator(32))
    ratio = T // num_steps
    expected = [i * ratio for i in range(num_steps - 1, -1, -1)]
    seen = [int(t.reshape(-1)[0]) if t.numel() else None for _, t in model.calls]
    assert_true(len(seen) == num_steps, N_("your ddim_sample called the model {seen} times for num_steps = "
                                           "{num_steps}; expected once per step.").format(
                                               seen=len(seen), num_steps=num_steps), LEADING_HINT)
    assert_true(seen == expected, N_("your ddim_sample called the model at t = {seen}... for T = {T} and num_steps "
                                     "= {num_steps}; expected t = {expected}...").format(
                                         seen=seen[:4], T=T, num_steps=num_steps, expected=expected[:4]), LEADING_HINT)
    for i, (_, t) in enumerate(model.calls):
        assert_close(t, torch.full((2,), expected[i], dtype=torch.long), name=N_("timesteps at call {call}").format(
            call=i + 1),
                     hint=N_("pass the timestep as a LongTensor (B,): torch.full((B,), t)"))


@pytest.mark.task("4.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@pytest.mark.parametrize("T,num_steps", [(100, 10), (50, 7)])
def test_ddim_sample_eta0_closed_form(student, reference, T, num_steps):
    """4.2 ddim_sample with eta = 0 is the deterministic DDIM chain from x_T"""
    abar = abar_for("cosine", T)
    model = EpsModel(abar, 3, 33)
    shape = (3, 3, 4)
    ratio = T // num_steps
    x = torch.randn(shape, generator=generator(34), dtype=torch.float64)
    for t in range(ratio * (num_steps - 1), -1, -ratio):      # the chain, written out here
        eps = model.eps(x, torch.full((3,), t))
        a_t, a_p = float(abar[t]), (float(abar[t - ratio]) if t - ratio >= 0 else 1.0)
        x0_hat = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        x = math.sqrt(a_p) * x0_hat + math.sqrt(1 - a_p) * eps
    got = _ddim(student, reference, model, shape, abar, num_steps, generator(34), dtype=torch.float64)
    assert_close(got, x, name=N_("ddim_sample output with eta = 0"), hint=TPREV_HINT + "; " + DDIM_SAMPLE_HINT)


@pytest.mark.task("4.2")
@pytest.mark.points(2)
@pytest.mark.tags("reproducibility", "generator")
def test_ddim_sample_uses_only_generator(student, reference):
    """4.2 ddim_sample (eta > 0): the same generator seed gives the same samples whatever the global RNG"""
    T, shape = 40, (2, 3, 4, 4)
    abar = abar_for("linear", T)
    results = []
    for global_seed, gen_seed in ((1234, 41), (99, 41), (1234, 42)):
        with student.global_seed(global_seed):
            results.append(_ddim(student, reference, EpsModel(abar, 3, 43), shape, abar, 8, generator(gen_seed),
                                 eta=1.0))
    assert_true(torch.equal(results[0], results[1]), N_("two calls with generators seeded the same gave different "
                                                        "samples under different states of the global random "
                                                        "generators."), RNG_HINT)
    assert_true(not torch.equal(results[0], results[2]), N_("generators with different seeds gave the same samples."),
                RNG_HINT)
