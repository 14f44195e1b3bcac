"""Assignment a6_xai: explaining black-box models (XAI, 설명 가능한 AI).

Implement every function below; each body currently raises ``NotImplementedError``.
Read README.md first: it gives the formulas, and the task numbers used by the grader.

Conventions
-----------
* ``predict`` is a black-box callable: it takes a float64 numpy array ``(m, n)`` (m rows of
  n features) and returns ``(m,)`` scores.  Calling it is the expensive part: hand it many
  rows at once (one call with 10 000 rows is far cheaper than 10 000 calls with one row).
* Gradient methods take an ``nn.Module`` returning ``(B, classes)`` logits.  ``target`` is
  an int (the same class for every row) or a LongTensor ``(B,)`` (one class per row).
  Attributions have the shape, dtype and device of ``x``.  Do not change the model's
  parameters or leave hooks registered on it.
* Only numpy and torch are available when grading.
"""
from __future__ import annotations

import numpy as np
import torch


# ---------------------------------------------------------------------------
# Part 1: Shapley values (섀플리 값)
# ---------------------------------------------------------------------------
def shapley_values(predict, x, background):
    """Task 1.1: exact interventional Shapley values.

    The value of a coalition S (a subset of the n features) is the average prediction
    when the features in S take the values of ``x`` and the others the values of each
    background row b_j:

        v(S) = (1/m) * sum_j predict(x_S, b_j,~S)

    and the Shapley value of feature i is

        phi_i = sum_{S subset of N without i} |S|! (n - |S| - 1)! / n! * (v(S + {i}) - v(S)).

    Evaluate all 2^n coalitions in a few batched ``predict`` calls (stack the rows of many
    coalitions into one array), never one call per coalition.  n is at most 16.

    Shapes:
        x: (n,) or (k, n); background: (m, n).
        returns: (n,) for x (n,), (k, n) for x (k, n); float64 numpy arrays.

    Example:
        >>> w = np.array([1.0, -2.0, 0.5])
        >>> shapley_values(lambda X: X @ w, np.array([1.0, 1.0, 1.0]), np.zeros((4, 3)))
        array([ 1. , -2. ,  0.5])

    Args:
        predict: callable, float64 array (rows, n) -> (rows,).
        x: the instance(s) to explain.
        background: rows that stand in for "absent" features.

    Returns:
        phi with sum(phi) == predict(x) - mean(predict(background)) (efficiency, 효율성).
    """
    raise NotImplementedError("Task 1.1: shapley_values")


def kernel_shap(predict, x, background, n_samples, generator):
    """Task 1.2: KernelSHAP, the weighted-least-squares estimate of the Shapley values.

    Sample coalitions z in {0,1}^n (z_i = 1: feature i comes from x) with the Shapley
    kernel (coalitions of size s weighted by (n-1) / (C(n, s) * s * (n - s))), evaluate
    v(z) as in ``shapley_values`` in one batched ``predict`` call, and solve

        min_phi  sum_z w(z) * (v(z) - v(empty) - z . phi)^2
        subject to  sum(phi) = v(full) - v(empty)            (efficiency, exactly)

    Either sample z with probability proportional to the kernel and weight samples equally,
    or enumerate coalitions with their kernel weights when ``n_samples`` covers all
    2^n - 2 proper coalitions.  The empty and full coalitions are never regression rows.

    Shapes:
        x: (n,); background: (m, n); returns (n,) float64 numpy array.

    Example:
        >>> kernel_shap(lambda X: X @ np.array([1.0, 2.0]), np.ones(2), np.zeros((3, 2)),
        ...             100, np.random.default_rng(0))
        array([1., 2.])

    Args:
        predict: callable, float64 array (rows, n) -> (rows,).
        x: the instance to explain.
        background: background rows (m, n).
        n_samples: number of sampled coalitions.
        generator: numpy.random.Generator, the only source of randomness.

    Returns:
        phi, converging to ``shapley_values(predict, x, background)`` as n_samples grows.
    """
    raise NotImplementedError("Task 1.2: kernel_shap")


# ---------------------------------------------------------------------------
# Part 2: partial dependence and ICE (부분 의존도, 개별 조건부 기대)
# ---------------------------------------------------------------------------
def partial_dependence(predict, X, feature, grid, centered=False):
    """Task 2.1: brute-force partial dependence (PDP) and ICE curves.

        ice[i, j] = predict(X[i] with column ``feature`` set to grid[j])
        pd[j]     = mean_i ice[i, j]

    With ``centered=True`` return centered ICE (c-ICE): each curve minus its own value
    at the first grid point, ice[i, j] - ice[i, 0], so every curve starts at 0; ``pd``
    is then the mean of the centered curves.  ``pd`` is always the mean of the returned
    ``ice``.  Do not modify ``X``.

    Shapes:
        X: (N, n); grid: (g,); returns pd (g,), ice (N, g), float64 numpy arrays.

    Example:
        >>> pd, ice = partial_dependence(lambda X: X[:, 0] + X[:, 1], np.array([[0., 1.], [0., 3.]]),
        ...                              0, np.array([0., 1.]))
        >>> pd, ice
        (array([2., 3.]), array([[1., 2.], [3., 4.]]))

    Args:
        predict: callable, float64 array (rows, n) -> (rows,).
        X: data rows.
        feature: int, the column whose value is swept.
        grid: values given to that column.
        centered: return centered ICE (and its mean) instead.

    Returns:
        (pd, ice)
    """
    raise NotImplementedError("Task 2.1: partial_dependence")


# ---------------------------------------------------------------------------
# Part 3: gradient methods (기울기 기반 기법)
# ---------------------------------------------------------------------------
def saliency(model, x, target):
    """Task 3.1: saliency map (vanilla gradient): |d model(x)[b, target_b] / d x[b]|.

    The absolute value of the gradient of each row's target logit with respect to that
    row's input (rows do not interact, so one backward pass of the sum over rows gives all).

    Shapes:
        x: (B, ...) float tensor; target: int or LongTensor (B,); returns x's shape, dtype, device.

    Example:
        for model = Flatten + Linear with weight W, saliency(model, x, c)[b] == |W[c]|.

    Args:
        model: nn.Module, (B, ...) -> (B, classes).
        x: input batch (does not need requires_grad).
        target: class index per row.

    Returns:
        non-negative attributions, shaped like x.
    """
    raise NotImplementedError("Task 3.1: saliency")


def integrated_gradients(model, x, target, baseline=None, n_steps=50, method="riemann_trapezoid"):
    """Task 3.2: Integrated Gradients (통합 기울기), as Captum computes it.

        IG(x) = (x - x') * sum_k s_k * grad f_target(x' + a_k (x - x'))

    with baseline x' (zeros when None) and, for K = n_steps (K >= 2), k = 0..K-1:

        riemann_left:      a_k = k / K,           s_k = 1/K
        riemann_right:     a_k = (k + 1) / K,     s_k = 1/K
        riemann_middle:    a_k = (k + 0.5) / K,   s_k = 1/K
        riemann_trapezoid: a_k = k / (K - 1),     s_k = 1/K, halved for k = 0 and k = K-1

    Evaluate all K path points of all rows in one batched forward/backward pass.
    Completeness: sum(IG(x)) approaches f_target(x) - f_target(x') as n_steps grows.

    Shapes:
        x, baseline: (B, ...); target: int or LongTensor (B,); returns x's shape, dtype, device.

    Example:
        for model = Flatten + Linear with weight W and method "riemann_middle",
        IG(x)[b] == (x[b] - x'[b]) * W[c].

    Args:
        model: nn.Module, (B, ...) -> (B, classes).
        x: inputs; target: classes; baseline: reference input (tensor like x, or None).
        n_steps: number of path points K; method: one of the four names above.

    Returns:
        attributions shaped like x.
    """
    raise NotImplementedError("Task 3.2: integrated_gradients")


def grad_cam(model, layer, x, target, relu=True):
    """Task 3.3: Grad-CAM at ``layer``'s output A (B, K, H', W').

        alpha_k = mean over (h, w) of d y_target / d A_k[h, w]     (one weight per channel)
        cam     = sum_k alpha_k * A_k                               (B, H', W')
        cam     = ReLU(cam) when relu is True

    Capture A with a forward hook on ``layer`` (and remove the hook afterwards); the map
    stays at the layer's resolution (no upsampling).

    Shapes:
        x: (B, C, H, W); target: int or LongTensor (B,); returns (B, H', W') in x's dtype and device.

    Example:
        when ``layer`` is followed only by global average pooling and a Linear with weight W,
        every d y_c / d A_k[h, w] = W[c, k] / (H' W') and cam = sum_k W[c, k] A_k / (H' W').

    Args:
        model: nn.Module (a CNN) returning (B, classes).
        layer: a submodule of model whose output is (B, K, H', W').
        x: input images; target: classes; relu: apply ReLU to the map.

    Returns:
        the class activation map.
    """
    raise NotImplementedError("Task 3.3: grad_cam")


# ---------------------------------------------------------------------------
# Part 4: LIME's local surrogate (국소 대리 모델)
# ---------------------------------------------------------------------------
def lime_fit(neighborhood, predictions, distances, kernel_width, alpha=1.0):
    """Task 4.1: fit LIME's weighted ridge surrogate (all features kept).

    Sample weights pi_i = sqrt(exp(-d_i^2 / kernel_width^2)) (LIME's tabular kernel).
    Fit y ~ intercept + Z @ coef minimizing

        sum_i pi_i (y_i - intercept - Z_i . coef)^2 + alpha * |coef|^2

    (the intercept is not penalised: center Z and y with their pi-weighted means, solve
    the ridge normal equations, then intercept = ybar - zbar . coef).  ``score`` is the
    pi-weighted R^2 of the fit on the neighborhood, 1 - sum pi (y - yhat)^2 / sum pi (y - ybar)^2.
    This equals lime.lime_base.LimeBase.explain_instance_with_data with
    feature_selection="none" and scikit-learn's Ridge(alpha).

    Shapes:
        neighborhood: (N, n); predictions: (N,); distances: (N,).

    Example:
        for predictions = Z @ w + 3 exactly and a tiny alpha, coef ~= w, intercept ~= 3, score ~= 1.

    Args:
        neighborhood: perturbed samples Z around the instance.
        predictions: the black box's outputs on them.
        distances: distance of each sample to the instance.
        kernel_width: width of the exponential kernel.
        alpha: ridge penalty.

    Returns:
        (intercept: float, coef: (n,) float64 numpy array, score: float)
    """
    raise NotImplementedError("Task 4.1: lime_fit")
