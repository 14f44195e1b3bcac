"""The a6_xai reference checked against independent implementations (shap, captum,
scikit-learn, lime), and the stub checked to raise NotImplementedError everywhere.

These libraries are test-only dependencies; the hidden suite never imports them.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import registry
from shared import models_a6
from shared.adapter import load_module

shap = pytest.importorskip("shap")
captum_attr = pytest.importorskip("captum.attr")
sk_inspection = pytest.importorskip("sklearn.inspection")
lime_base = pytest.importorskip("lime.lime_base")

A6 = registry.get("a6_xai")


@pytest.fixture(scope="module")
def ref():
    return load_module(A6.solution_path, "_a6_reference_for_tests")


@pytest.fixture(scope="module")
def stub():
    return load_module(A6.stub_path, "_a6_stub_for_tests")


def _mlp_predict(n, seed, hidden=6):
    rng = np.random.default_rng(seed)
    w1, b1, w2 = rng.normal(size=(n, hidden)), rng.normal(size=hidden), rng.normal(size=hidden)

    def predict(X):
        X = np.asarray(X, dtype=np.float64)
        return np.tanh(X @ w1 + b1) @ w2 + 0.3 * X[:, 0] * X[:, -1]
    return predict


# ---- Shapley values vs shap's Exact explainer ---------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shapley_values_match_shap_exact(ref, seed):
    n, m = 5, 7
    rng = np.random.default_rng(100 + seed)
    predict = _mlp_predict(n, seed)
    background = rng.normal(size=(m, n))
    X = rng.normal(size=(3, n))
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explanation = shap.explainers.Exact(predict, masker)(X)
    ours = ref.shapley_values(predict, X, background)
    np.testing.assert_allclose(ours, explanation.values, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(explanation.base_values, predict(background).mean(), rtol=1e-12)
    np.testing.assert_allclose(ref.shapley_values(predict, X[1], background), ours[1], rtol=0, atol=1e-12)


def test_kernel_shap_converges_to_shap_exact(ref):
    n, m = 6, 5
    rng = np.random.default_rng(7)
    predict = _mlp_predict(n, 3)
    background, x = rng.normal(size=(m, n)), rng.normal(size=n)
    masker = shap.maskers.Independent(background, max_samples=len(background))
    exact = shap.explainers.Exact(predict, masker)(x[None]).values[0]
    # every coalition enumerated: KernelSHAP is exact
    full = ref.kernel_shap(predict, x, background, 2 ** n, np.random.default_rng(0))
    np.testing.assert_allclose(full, exact, atol=1e-9)
    sampled = ref.kernel_shap(predict, x, background, 3000, np.random.default_rng(0))
    np.testing.assert_allclose(sampled.sum(), exact.sum(), atol=1e-10)
    assert np.abs(sampled - exact).max() < 0.05 * np.abs(exact).max()


# ---- partial dependence vs scikit-learn -------------------------------------------
class _Wrapped:
    """A fitted scikit-learn regressor whose predict is a plain function."""

    def __new__(cls, predict):
        from sklearn.base import BaseEstimator, RegressorMixin

        class Wrapped(RegressorMixin, BaseEstimator):
            def fit(self, X, y=None):
                self.n_features_in_ = X.shape[1]
                self.fitted_ = True
                return self

            def predict(self, X):
                return predict(np.asarray(X, dtype=np.float64))
        return Wrapped()


@pytest.mark.parametrize("feature", [0, 2])
def test_partial_dependence_matches_sklearn(ref, feature):
    n = 4
    rng = np.random.default_rng(11)
    X = rng.normal(size=(9, n))
    predict = _mlp_predict(n, 5)
    est = _Wrapped(predict).fit(X)
    grid = np.linspace(-1.5, 2.0, 7)
    res = sk_inspection.partial_dependence(est, X, [feature], method="brute", kind="both",
                                           custom_values={feature: grid})
    pd, ice = ref.partial_dependence(predict, X, feature, grid)
    np.testing.assert_allclose(res["grid_values"][0], grid)
    np.testing.assert_allclose(pd, res["average"][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ice, res["individual"][0], rtol=1e-12, atol=1e-12)
    cpd, cice = ref.partial_dependence(predict, X, feature, grid, centered=True)
    np.testing.assert_allclose(cice, res["individual"][0] - res["individual"][0][:, :1], atol=1e-12)
    np.testing.assert_allclose(cpd, cice.mean(0), atol=1e-12)


# ---- gradient methods vs captum ------------------------------------------------------
def _cnn(dtype=torch.float64):
    return models_a6.small_cnn(2, 4, seed=3, dtype=dtype)


@pytest.mark.parametrize("target", [1, "tensor"])
def test_saliency_matches_captum(ref, target):
    model = _cnn()
    x = torch.randn(3, 2, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    tgt = torch.tensor([0, 3, 1]) if target == "tensor" else target
    expected = captum_attr.Saliency(model).attribute(x.clone().requires_grad_(), target=tgt, abs=True)
    torch.testing.assert_close(ref.saliency(model, x, tgt), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"])
@pytest.mark.parametrize("n_steps", [2, 7, 50])
def test_integrated_gradients_matches_captum(ref, method, n_steps):
    model = _cnn()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 6, 6, generator=g, dtype=torch.float64)
    baseline = 0.3 * torch.randn(2, 2, 6, 6, generator=g, dtype=torch.float64)
    tgt = torch.tensor([2, 0])
    expected = captum_attr.IntegratedGradients(model).attribute(x, baselines=baseline, target=tgt,
                                                                n_steps=n_steps, method=method)
    # Captum rounds alphas and step sizes to float32; ours are exact in float64.
    torch.testing.assert_close(ref.integrated_gradients(model, x, tgt, baseline, n_steps, method),
                               expected, rtol=1e-5, atol=1e-7)
    expected0 = captum_attr.IntegratedGradients(model).attribute(x, target=1, n_steps=n_steps, method=method)
    torch.testing.assert_close(ref.integrated_gradients(model, x, 1, n_steps=n_steps, method=method),
                               expected0, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("layer_index", [0, 2, 3])
def test_grad_cam_matches_captum(ref, relu, layer_index):
    model = _cnn()
    layer = model[layer_index]
    x = torch.randn(3, 2, 9, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    tgt = torch.tensor([1, 1, 3])
    expected = captum_attr.LayerGradCam(model, layer).attribute(x, target=tgt, relu_attributions=relu)
    ours = ref.grad_cam(model, layer, x, tgt, relu=relu)
    torch.testing.assert_close(ours, expected.squeeze(1), rtol=1e-10, atol=1e-12)


# ---- LIME surrogate vs lime.lime_base -------------------------------------------------
@pytest.mark.parametrize("kernel_width,alpha", [(0.75, 1.0), (2.0, 0.1), (1.3, 5.0)])
def test_lime_fit_matches_lime_base(ref, kernel_width, alpha):
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(4)
    N, n = 60, 4
    Z = rng.normal(size=(N, n))
    Z[0] = 0.0
    y = np.sin(Z @ rng.normal(size=n)) + 0.1 * rng.normal(size=N)
    d = np.linalg.norm(Z - Z[0], axis=1)

    def kernel(dist):
        return np.sqrt(np.exp(-(dist ** 2) / kernel_width ** 2))
    base = lime_base.LimeBase(kernel, random_state=0)
    intercept, pairs, score, _ = base.explain_instance_with_data(
        Z, y[:, None], d, 0, n, feature_selection="none",
        model_regressor=Ridge(alpha=alpha, fit_intercept=True))
    coef = np.zeros(n)
    for i, c in pairs:
        coef[i] = c
    ours = ref.lime_fit(Z, y, d, kernel_width, alpha=alpha)
    assert isinstance(ours[0], float) and isinstance(ours[2], float)
    np.testing.assert_allclose(ours[0], intercept, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[1], coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[2], score, rtol=1e-9, atol=1e-12)
    if alpha == 1.0:      # LIME's default regressor
        default = base.explain_instance_with_data(Z, y[:, None], d, 0, n, feature_selection="none")
        np.testing.assert_allclose(ref.lime_fit(Z, y, d, kernel_width)[0], default[0], rtol=1e-9)


# ---- the stub ------------------------------------------------------------------------
def test_every_stub_function_raises_not_implemented(stub, ref):
    args = {
        "shapley_values": (lambda X: X.sum(1), np.zeros(3), np.zeros((2, 3))),
        "kernel_shap": (lambda X: X.sum(1), np.zeros(3), np.zeros((2, 3)), 10, np.random.default_rng(0)),
        "partial_dependence": (lambda X: X.sum(1), np.zeros((2, 3)), 0, np.zeros(3)),
        "saliency": (_cnn(), torch.zeros(1, 2, 4, 4), 0),
        "integrated_gradients": (_cnn(), torch.zeros(1, 2, 4, 4), 0),
        "grad_cam": (_cnn(), None, torch.zeros(1, 2, 4, 4), 0),
        "lime_fit": (np.zeros((3, 2)), np.zeros(3), np.zeros(3), 1.0),
    }
    assert set(args) == set(A6.functions)
    for name, a in args.items():
        assert hasattr(ref, name)
        with pytest.raises(NotImplementedError, match=r"^Task \d+\.\d+: " + name):
            getattr(stub, name)(*a)
