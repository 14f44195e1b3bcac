"""Public tests for a6_xai: small, visible checks of each function.

Run them with ``python grade.py check a6_xai path/to/a6_xai.py``, or one function's checks
with ``pytest test_public.py -k shapley_values``.  Passing them does not guarantee full
marks: the hidden tests check more cases, the exact properties and the speed.
"""
import numpy as np
import pytest
import torch

from shared import models_a6
from shared.compare import assert_close, assert_true
from shared.i18n import N_

pytestmark = pytest.mark.visibility("visible")


def _linear_predict(w, b=0.0):
    def predict(X):
        return X @ w + b
    return predict


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_shapley_values_linear_model(student):
    """1.1 shapley_values of a linear model are w_i (x_i - mean background_i)"""
    w = np.array([1.0, -2.0, 0.5, 3.0])
    x = np.array([1.0, 2.0, -1.0, 0.5])
    background = np.array([[0.0, 1.0, 0.0, 0.0], [2.0, 1.0, -2.0, 1.0]])
    phi = student.shapley_values(_linear_predict(w, 0.3), x, background)
    assert_close(phi, w * (x - background.mean(axis=0)), name=N_("Shapley values"),
                 hint=N_("phi_i = sum over coalitions S without i of |S|!(n-|S|-1)!/n! (v(S+i) - v(S))"))
    both = student.shapley_values(_linear_predict(w), np.stack([x, -x]), background)
    assert_close(both, w * (np.stack([x, -x]) - background.mean(axis=0)), name=N_("Shapley values of 2 rows"),
                 hint=N_("x of shape (k, n) gives (k, n) values"))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_shapley_values_efficiency_and_batching(student):
    """1.1 shapley_values sum to f(x) - mean f(background), using few predict calls"""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 4))
    calls = []

    def predict(X):
        calls.append(len(X))
        return np.tanh(X @ W).sum(axis=1) + X[:, 0] * X[:, 5]
    x, background = rng.normal(size=6), rng.normal(size=(3, 6))
    phi = student.shapley_values(predict, x, background)
    gap = predict(x[None])[0] - predict(background).mean()
    assert_true(abs(float(np.sum(phi)) - gap) < 1e-9,
                N_("the Shapley values do not sum to f(x) - mean f(background)."),
                N_("efficiency: v(empty) is the mean prediction over the background rows"))
    assert_true(len(calls) - 2 <= 8, N_("predict was called {n} times for 64 coalitions.").format(n=len(calls) - 2),
                N_("batch the coalitions: one predict call on all their rows"))


@pytest.mark.task("1.2")
@pytest.mark.points(0)
def test_kernel_shap_linear_model_and_efficiency(student):
    """1.2 kernel_shap is exact for a linear model and efficient for any model"""
    rng = np.random.default_rng(1)
    w = rng.normal(size=5)
    x, background = rng.normal(size=5), rng.normal(size=(4, 5))
    phi = student.kernel_shap(_linear_predict(w), x, background, 64, np.random.default_rng(0))
    assert_close(phi, w * (x - background.mean(axis=0)), name=N_("KernelSHAP values of a linear model"), loosen=100,
                 hint=N_("weighted least squares of v(z) - v(empty) on the coalition indicators z"))

    def f(X):
        return np.sin(X @ w) + X[:, 1] ** 2
    phi = student.kernel_shap(f, x, background, 20, np.random.default_rng(0))
    gap = f(x[None])[0] - f(background).mean()
    assert_true(abs(float(np.sum(phi)) - gap) < 1e-9,
                N_("the KernelSHAP values do not sum to f(x) - mean f(background)."),
                N_("impose the efficiency constraint exactly"))


@pytest.mark.task("2.1")
@pytest.mark.points(0)
def test_partial_dependence_small_example(student):
    """2.1 partial_dependence: ICE curves, their mean, and centered ICE"""
    X = np.array([[0.0, 1.0], [5.0, 3.0], [1.0, -1.0]])
    grid = np.array([-1.0, 0.0, 2.0])

    def predict(Z):
        return Z[:, 0] ** 2 + Z[:, 0] * Z[:, 1]
    pd, ice = student.partial_dependence(predict, X, 0, grid)
    expected_ice = grid[None, :] ** 2 + grid[None, :] * X[:, 1:2]
    assert_close((pd, ice), (expected_ice.mean(axis=0), expected_ice), name="(pd, ice)",
                 hint=N_("ice[i, j] = predict(X[i] with column feature = grid[j]); pd = mean of ice over rows"))
    pd_c, ice_c = student.partial_dependence(predict, X, 0, grid, centered=True)
    centered = expected_ice - expected_ice[:, :1]
    assert_close((pd_c, ice_c), (centered.mean(axis=0), centered), name=N_("centered (pd, ice)"),
                 hint=N_("centered ICE subtracts each curve's value at the first grid point"))


@pytest.mark.task("3.1")
@pytest.mark.points(0)
def test_saliency_linear_model(student):
    """3.1 saliency of a linear model is |W[target]|"""
    model = models_a6.linear(6, 3, seed=0)
    x = torch.randn(2, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    W = model[1].weight.detach()
    assert_close(student.saliency(model, x, 2), W[[2, 2]].abs(), name=N_("saliency (int target)"),
                 hint=N_("the absolute value of the gradient of the target logit"))
    assert_close(student.saliency(model, x, torch.tensor([0, 1])), W[[0, 1]].abs(), name=N_("saliency (tensor target)"),
                 hint=N_("one target per row"))


@pytest.mark.task("3.2")
@pytest.mark.points(0)
def test_integrated_gradients_linear_model_and_completeness(student):
    """3.2 integrated_gradients: exact for a linear model, complete for a smooth one"""
    model = models_a6.linear(4, 2, seed=1)
    g = torch.Generator().manual_seed(1)
    x, baseline = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64)
    W = model[1].weight.detach()
    ig = student.integrated_gradients(model, x, 1, baseline, n_steps=10, method="riemann_middle")
    assert_close(ig, (x - baseline) * W[1], name=N_("IG of a linear model"),
                 hint=N_("(x - baseline) times the average gradient along the path"))
    smooth = models_a6.smooth_mlp(4, 2, seed=2)
    with torch.no_grad():
        gap = smooth(x)[:, 0] - smooth(baseline)[:, 0]
    ig = student.integrated_gradients(smooth, x, 0, baseline, n_steps=200, method="riemann_middle")
    assert_true(float((ig.sum(dim=1) - gap).abs().max()) < 1e-2,
                N_("sum(IG) is far from f(x) - f(baseline) with 200 steps (completeness)."),
                N_("check the path points, step sizes and the (x - baseline) factor"))


@pytest.mark.task("3.3")
@pytest.mark.points(0)
def test_grad_cam_shape_and_relu(student):
    """3.3 grad_cam has the layer's resolution and is non-negative with ReLU"""
    model = models_a6.small_cnn(3, 4, seed=0)
    x = torch.randn(2, 3, 10, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    cam = student.grad_cam(model, model[3], x, 1)
    assert_true(tuple(cam.shape) == (2, 5, 5),
                N_("Grad-CAM shape {actual}; expected (2, 5, 5).").format(actual=tuple(cam.shape)),
                N_("the map has the layer's resolution (B, H', W')"))
    assert_true(bool((cam >= 0).all()), N_("Grad-CAM with relu=True has negative values."), N_("apply ReLU"))
    raw = student.grad_cam(model, model[3], x, 1, relu=False)
    assert_close(torch.relu(raw), cam, name=N_("ReLU of the relu=False map"), hint=N_("relu only clips the map"))


@pytest.mark.task("4.1")
@pytest.mark.points(0)
def test_lime_fit_linear_model(student):
    """4.1 lime_fit recovers a linear model"""
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(30, 3))
    w = np.array([1.5, -0.5, 2.0])
    d = np.linalg.norm(Z, axis=1)
    intercept, coef, score = student.lime_fit(Z, Z @ w + 0.7, d, kernel_width=1.0, alpha=1e-10)
    assert_close(coef, w, name="coef", loosen=1000, hint=N_("weighted ridge regression"))
    assert_close(intercept, 0.7, name="intercept", loosen=1000, hint=N_("the intercept is not penalised"))
    assert_close(score, 1.0, name="score", loosen=1000, hint=N_("weighted R^2 of the surrogate"))
