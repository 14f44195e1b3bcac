"""Task 2.1-2.4: the reverse process: posterior, x0 prediction, the DDPM step, the loss."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a4_diffusion.strategies import pinned_threads  # noqa: F401 (fixture)
from autograder.suites.a4_diffusion.strategies import (abar_for, batch_shapes, betas_for, check, kinds, loosen_for,
                                                       num_steps, view_b)
from shared.compare import assert_close, assert_true
from shared.devices import DEVICES
from shared.models_a4 import TinyEpsModel
from shared.strategies import float_dtypes, randint, randn, seeds
from shared.i18n import N_
from shared.hints_a4 import POST_HINT, X0_HINT, DDPM_HINT, FINAL_HINT, LOSS_HINT


POST_VAR_BETA = N_("Your variance equals beta_t: the posterior variance is beta_tilde_t, not beta_t.")
DDPM_BETA = N_("Your step matches sqrt(beta_t) * noise: the noise scale is the posterior variance beta_tilde_t, not "
               "beta_t.")


def _coefficients(betas, t):
    """Python floats of DDPM eq. 7 at an int t (independent of any submission)."""
    b = [float(x) for x in betas]
    abar = math.prod(1 - x for x in b[:t + 1])
    abar_prev = math.prod(1 - x for x in b[:t])          # empty product = 1 at t = 0
    c_x0 = math.sqrt(abar_prev) * b[t] / (1 - abar)
    c_xt = math.sqrt(1 - b[t]) * (1 - abar_prev) / (1 - abar)
    var = (1 - abar_prev) / (1 - abar) * b[t]
    return abar, c_x0, c_xt, var


# ---- 2.1 posterior -------------------------------------------------------------------
@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "broadcasting")
@settings(max_examples=15)
@given(shape=batch_shapes(), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes)
def test_q_posterior_mean_variance_matches_reference(student, reference, shape, seed, kind, T, dtype):
    """2.1 q_posterior_mean_variance matches the reference (inputs of rank 2 to 5)"""
    betas = betas_for(kind, T)
    x0, xt = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    t = randint((shape[0],), seed + 2, 0, T)
    mean, var = reference.q_posterior_mean_variance(x0, xt, t, betas)
    got = student.q_posterior_mean_variance(x0, xt, t, betas)
    assert_true(isinstance(got, (tuple, list)) and len(got) == 2,
                N_("q_posterior_mean_variance must return a tuple (mean, variance)."), POST_HINT)
    check(got[1], var, name=N_("posterior variance"), hint=POST_HINT,
          mistakes=[(view_b(betas[t], xt), POST_VAR_BETA)], loosen=loosen_for(dtype))
    check(got[0], mean, name=N_("posterior mean"), hint=POST_HINT, loosen=loosen_for(dtype))


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps)
def test_q_posterior_mean_variance_closed_form(student, seed, kind, T):
    """2.1 posterior mean and variance equal DDPM eq. 7 (t = 0 gives mean x0, variance 0)"""
    betas = betas_for(kind, T)
    ts = [0, 1 % T, T - 1, int(randint((), seed, 0, T))]
    x0, xt = randn((4, 3, 2), seed + 1), randn((4, 3, 2), seed + 2)
    rows = [_coefficients(betas, i) for i in ts]
    mean = torch.stack([c_x0 * x0[b] + c_xt * xt[b] for b, (_, c_x0, c_xt, _) in enumerate(rows)])
    var = torch.tensor([r[3] for r in rows], dtype=torch.float64).reshape(4, 1, 1)
    got = student.q_posterior_mean_variance(x0, xt, torch.tensor(ts), betas)
    assert_true(isinstance(got, (tuple, list)) and len(got) == 2,
                N_("q_posterior_mean_variance must return a tuple (mean, variance)."), POST_HINT)
    check(got[1], var, name=N_("posterior variance"), hint=POST_HINT,
          mistakes=[(betas[ts].reshape(4, 1, 1), POST_VAR_BETA)])
    assert_close(got[0], mean, name=N_("posterior mean"), hint=POST_HINT)


# ---- 2.2 x0 prediction ------------------------------------------------------------------
@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness")
@settings(max_examples=15)
@given(shape=batch_shapes(), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes)
def test_predict_x0_from_eps_matches_reference(student, reference, shape, seed, kind, T, dtype):
    """2.2 predict_x0_from_eps matches the reference"""
    abar = abar_for(kind, T)
    xt, eps = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    t = randint((shape[0],), seed + 2, 0, T)
    check(student.predict_x0_from_eps(xt, t, eps, abar), reference.predict_x0_from_eps(xt, t, eps, abar),
          name=N_("predict_x0_from_eps output"), hint=X0_HINT, loosen=loosen_for(dtype))


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=10)
@given(shape=batch_shapes(), seed=seeds, kind=kinds, T=num_steps)
def test_predict_x0_from_eps_inverts_q_sample(student, reference, shape, seed, kind, T):
    """2.2 predict_x0_from_eps inverts q_sample given the true noise"""
    abar = abar_for(kind, T)
    x0, noise = randn(shape, seed), randn(shape, seed + 1)
    t = randint((shape[0],), seed + 2, 0, T)
    xt = reference.q_sample(x0, t, noise, abar)
    # 1 / sqrt(abar_t) reaches ~1e5 at the end of the cosine schedule: the round trip
    # loses ~1e-11 absolute in float64, just above atol 1e-10.
    assert_close(student.predict_x0_from_eps(xt, t, noise, abar), x0, name=N_("recovered x0"), hint=X0_HINT, loosen=100)


# ---- 2.3 DDPM step ------------------------------------------------------------------------
@pytest.mark.task("2.3")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "sampling")
@settings(max_examples=15)
@given(shape=batch_shapes(), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes, data=st.data())
def test_ddpm_step_matches_reference(student, reference, shape, seed, kind, T, dtype, data):
    """2.3 ddpm_step matches the reference (= diffusers DDPMScheduler.step, fixed_small)"""
    t = data.draw(st.integers(1, T - 1))
    betas = betas_for(kind, T)
    eps, xt, noise = (randn(shape, seed + i, dtype) for i in range(3))
    expected = reference.ddpm_step(eps, t, xt, betas, noise)
    wrong_var = (expected - math.sqrt(_coefficients(betas, t)[3]) * noise + math.sqrt(float(betas[t])) * noise)
    check(student.ddpm_step(eps, t, xt, betas, noise), expected, name=N_("ddpm_step output"), hint=DDPM_HINT,
          mistakes=[(wrong_var, DDPM_BETA)], loosen=loosen_for(dtype))


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "sampling", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes)
def test_ddpm_step_final_step_adds_no_noise(student, seed, kind, T, dtype):
    """2.3 ddpm_step at t = 0 (the final step) returns x0_hat and adds no noise"""
    betas = betas_for(kind, T)
    eps, xt, noise = (randn((3, 2, 4), seed + i, dtype) for i in range(3))
    abar0 = 1 - float(betas[0])
    expected = (xt - math.sqrt(1 - abar0) * eps) / math.sqrt(abar0)
    assert_close(student.ddpm_step(eps, 0, xt, betas, noise), expected, name=N_("ddpm_step output at t = 0"),
                 hint=FINAL_HINT, loosen=loosen_for(dtype))


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "sampling", "closed-form")
@settings(max_examples=10)
@given(seed=seeds, kind=kinds, T=num_steps, data=st.data())
def test_ddpm_step_closed_form(student, seed, kind, T, data):
    """2.3 ddpm_step equals posterior mean at x0_hat + sqrt(beta_tilde_t) * noise"""
    t = data.draw(st.integers(1, T - 1))
    betas = betas_for(kind, T)
    eps, xt, noise = (randn((4, 3, 3), seed + i) for i in range(3))
    abar, c_x0, c_xt, var = _coefficients(betas, t)
    x0_hat = (xt - math.sqrt(1 - abar) * eps) / math.sqrt(abar)
    expected = c_x0 * x0_hat + c_xt * xt + math.sqrt(var) * noise
    wrong_var = c_x0 * x0_hat + c_xt * xt + math.sqrt(float(betas[t])) * noise
    check(student.ddpm_step(eps, t, xt, betas, noise), expected, name=N_("ddpm_step output"), hint=DDPM_HINT,
          mistakes=[(wrong_var, DDPM_BETA)])


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.usefixtures("pinned_threads")
def test_ddpm_step_speed(perf, device):
    """2.3 ddpm_step is vectorized over the batch (speed against the reference)"""
    # many tiny images: the reference takes ~20 ms on one thread; even a loop that only
    # adds the noise per sample costs ~9 us x 32768 samples (15x).  Seeded blocks are
    # tiled along the batch (cheaper than drawing 1.6M float64 normals).
    shape = (32768, 3, 4, 4)
    eps, xt, noise = (randn((1024, *shape[1:]), i, torch.float32, device).repeat(32, 1, 1, 1) for i in range(3))
    betas = betas_for("cosine", 1000, device)
    perf.check("ddpm_step", eps, 500, xt, betas, noise,
               hint=N_("vectorize: the whole batch shares t, so the coefficients are scalars applied to whole "
                       "tensors; no Python loop over samples"))


# ---- 2.4 loss -----------------------------------------------------------------------------
@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "training")
@settings(max_examples=10)
@given(shape=batch_shapes(max_side=4), seed=seeds, kind=kinds, T=num_steps, dtype=float_dtypes)
def test_diffusion_loss_matches_reference(student, reference, shape, seed, kind, T, dtype):
    """2.4 diffusion_loss matches the reference with a small noise-prediction network"""
    abar = abar_for(kind, T)
    model = TinyEpsModel(shape[1], seed=seed % 1000, dtype=dtype)
    x0, noise = randn(shape, seed, dtype), randn(shape, seed + 1, dtype)
    t = randint((shape[0],), seed + 2, 0, T)
    expected = reference.diffusion_loss(model, x0, t, noise, abar)
    wrong_target = torch.nn.functional.mse_loss(model(reference.q_sample(x0, t, noise, abar), t), x0)
    check(student.diffusion_loss(model, x0, t, noise, abar), expected, name="diffusion_loss", hint=LOSS_HINT,
          mistakes=[(wrong_target, N_("Your loss compares the model output with x0: the target is the noise."))],
          loosen=loosen_for(dtype))


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "training")
@settings(max_examples=5)
@given(seed=seeds, kind=kinds, T=num_steps)
def test_diffusion_loss_calls_model_on_x_t(student, reference, seed, kind, T):
    """2.4 diffusion_loss calls model(x_t, t) once and returns the mean squared error to the noise"""
    abar = abar_for(kind, T)
    x0, noise = randn((4, 2, 3, 3), seed), randn((4, 2, 3, 3), seed + 1)
    t = randint((4,), seed + 2, 0, T)
    calls, out = [], randn((4, 2, 3, 3), seed + 3)

    def model(x, tt):                 # stays in the test process (called back from the worker)
        calls.append((x.detach().clone(), torch.as_tensor(tt).clone()))
        return out.clone()

    loss = student.diffusion_loss(model, x0, t, noise, abar)
    assert_true(len(calls) == 1, N_("your diffusion_loss called the model {calls} times; expected once.").format(
        calls=len(calls)),
                LOSS_HINT)
    assert_close(calls[0][0], reference.q_sample(x0, t, noise, abar), name=N_("x_t passed to the model"), hint=LOSS_HINT)
    assert_close(calls[0][1], t, name=N_("t passed to the model"), hint=LOSS_HINT, check_dtype=False)
    assert_close(loss, ((noise - out) ** 2).mean(), name="diffusion_loss", hint=LOSS_HINT)


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=5)
@given(seed=seeds, kind=kinds, T=num_steps)
def test_diffusion_loss_gradient(student, reference, seed, kind, T):
    """2.4 the gradient of diffusion_loss with respect to x0 matches the reference"""
    abar = abar_for(kind, T)
    model = TinyEpsModel(3, seed=seed % 1000, dtype=torch.float64)
    noise = randn((3, 3, 4, 4), seed + 1)
    t = randint((3,), seed + 2, 0, T)
    x_ref = randn((3, 3, 4, 4), seed, requires_grad=True)
    reference.diffusion_loss(model, x_ref, t, noise, abar).backward()
    x_stu = randn((3, 3, 4, 4), seed, requires_grad=True)
    loss = student.diffusion_loss(model, x_stu, t, noise, abar)
    assert_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                N_("your diffusion_loss is not differentiable with respect to x0."),
                N_("compute the loss with torch operations only (no .item(), .detach() or numpy)"))
    loss.backward()
    assert_close(x_stu.grad, x_ref.grad, name=N_("gradient of diffusion_loss w.r.t. x0"), hint=LOSS_HINT)
