"""A correct-but-slow a6_xai submission: shapley_values calls predict once per coalition.
Derived from a worked solution.

Model-agnostic methods (Shapley values, KernelSHAP, partial dependence / ICE, LIME)
work on a black-box ``predict`` that maps a float64 numpy array ``(m, n)`` to ``(m,)``
scores.  Gradient methods (saliency, Integrated Gradients, Grad-CAM) take an
``nn.Module`` returning ``(B, classes)`` logits.
"""
from __future__ import annotations

import math

import numpy as np
import torch

# Rows handed to ``predict`` in one call.  Large enough that every coalition of a
# 12-feature game with a small background goes in one call; small enough that
# n = 16 with a large background does not need gigabytes.
_MAX_ROWS = 1 << 18


def _predict_rows(predict, rows: np.ndarray) -> np.ndarray:
    out = np.asarray(predict(np.ascontiguousarray(rows, dtype=np.float64)), dtype=np.float64)
    return out.reshape(rows.shape[0])


def _coalition_values(predict, x: np.ndarray, background: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """v(S) = mean_j f(x_S, b_j,~S) for every coalition mask (C, n), in batched calls."""
    m, n = background.shape
    per_call = 1          # one predict call per coalition: correct values, far too many calls
    values = np.empty(masks.shape[0])
    for start in range(0, masks.shape[0], per_call):
        chunk = masks[start:start + per_call]
        rows = np.where(chunk[:, None, :], x[None, None, :], background[None, :, :])
        values[start:start + per_call] = _predict_rows(predict, rows.reshape(-1, n)).reshape(len(chunk), m).mean(axis=1)
    return values


def _all_masks(n: int) -> np.ndarray:
    codes = np.arange(1 << n)
    return ((codes[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def shapley_values(predict, x, background):
    """Exact interventional Shapley values of ``x`` ((n,) or (k, n)) against ``background`` (m, n)."""
    x = np.asarray(x, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    if background.ndim == 1:
        background = background[None, :]
    single = x.ndim == 1
    xs = x[None, :] if single else x
    n = xs.shape[1]
    masks = _all_masks(n)                                  # (2^n, n), bit i <-> feature i
    sizes = masks.sum(axis=1)
    # weight(s) = s! (n - s - 1)! / n!  for a coalition of size s not containing i
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    # phi_i = sum_S v(S) * (weight(|S|-1) if i in S else -weight(|S|))
    with_i = weight[np.clip(sizes - 1, 0, n - 1)][:, None]
    without_i = weight[np.clip(sizes, 0, n - 1)][:, None]
    coef = np.where(masks, with_i, -without_i)             # (2^n, n)
    out = np.stack([_coalition_values(predict, row, background, masks) @ coef for row in xs])
    return out[0] if single else out


def kernel_shap(predict, x, background, n_samples, generator):
    """KernelSHAP: Shapley-kernel weighted least squares with the efficiency constraint."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    background = np.asarray(background, dtype=np.float64)
    if background.ndim == 1:
        background = background[None, :]
    n = x.shape[0]
    n_samples = int(n_samples)
    if n == 1:
        ends = _coalition_values(predict, x, background, np.array([[False], [True]]))
        return np.array([ends[1] - ends[0]])
    sizes_all = np.arange(1, n)
    kernel = (n - 1) / (sizes_all * (n - sizes_all))        # total kernel mass of all coalitions of size s
    if n_samples >= (1 << n) - 2:
        masks = _all_masks(n)[1:-1]                        # every proper, non-empty coalition
        s = masks.sum(axis=1)
        weights = kernel[s - 1] / np.array([math.comb(n, int(k)) for k in s])
    else:
        s = generator.choice(sizes_all, size=n_samples, p=kernel / kernel.sum())
        ranks = generator.random((n_samples, n)).argsort(axis=1).argsort(axis=1)
        masks = ranks < s[:, None]                         # a uniform subset of size s
        weights = np.ones(n_samples)
    ends = np.zeros((2, n), dtype=bool)
    ends[1] = True
    values = _coalition_values(predict, x, background, np.concatenate([ends, masks]))
    v_empty, v_full, v = values[0], values[1], values[2:]
    total = v_full - v_empty
    z = masks.astype(np.float64)
    # eliminate the last feature: phi_last = total - sum(phi_others)
    design = z[:, :-1] - z[:, -1:]
    target = v - v_empty - z[:, -1] * total
    sw = np.sqrt(weights)
    phi_rest, *_ = np.linalg.lstsq(design * sw[:, None], target * sw, rcond=None)
    return np.append(phi_rest, total - phi_rest.sum())


def partial_dependence(predict, X, feature, grid, centered=False):
    """Brute-force partial dependence and ICE curves of ``feature`` over ``grid``."""
    X = np.asarray(X, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    N, n = X.shape
    rows = np.repeat(X[None, :, :], grid.shape[0], axis=0)  # (g, N, n)
    rows[:, :, feature] = grid[:, None]
    ice = _predict_rows(predict, rows.reshape(-1, n)).reshape(grid.shape[0], N).T.copy()
    if centered:
        ice = ice - ice[:, :1]
    return ice.mean(axis=0), ice


def _target_index(target, batch: int, device) -> torch.Tensor:
    if isinstance(target, torch.Tensor):
        return target.to(device=device, dtype=torch.long).reshape(-1).expand(batch)
    return torch.full((batch,), int(target), dtype=torch.long, device=device)


def _selected(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return out.gather(1, target[:, None]).sum()


def saliency(model, x, target):
    """|d output[target] / d x| for every input element."""
    inp = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = model(inp)
        (grad,) = torch.autograd.grad(_selected(out, _target_index(target, x.shape[0], x.device)), inp)
    return grad.abs().detach()


def _riemann(method: str, n: int):
    if n < 2:
        raise ValueError("n_steps must be at least 2")
    k = np.arange(n, dtype=np.float64)
    steps = np.full(n, 1.0 / n)
    if method == "riemann_left":
        alphas = k / n
    elif method == "riemann_right":
        alphas = (k + 1) / n
    elif method == "riemann_middle":
        alphas = (k + 0.5) / n
    elif method == "riemann_trapezoid":
        alphas = k / (n - 1)
        steps[0] /= 2
        steps[-1] /= 2
    else:
        raise ValueError(f"unknown method {method!r}")
    return steps, alphas


def integrated_gradients(model, x, target, baseline=None, n_steps=50, method="riemann_trapezoid"):
    """Integrated Gradients along the straight path from ``baseline`` to ``x`` (Riemann sums as Captum)."""
    x = x.detach()
    if baseline is None:
        baseline = torch.zeros_like(x)
    elif not isinstance(baseline, torch.Tensor):
        baseline = torch.full_like(x, float(baseline))
    baseline = baseline.detach().to(dtype=x.dtype, device=x.device).expand_as(x)
    steps, alphas = _riemann(method, int(n_steps))
    B = x.shape[0]
    view = (-1,) + (1,) * x.dim()
    a = torch.as_tensor(alphas, dtype=x.dtype, device=x.device).view(view)
    w = torch.as_tensor(steps, dtype=x.dtype, device=x.device).view(view)
    delta = x - baseline
    path = (baseline.unsqueeze(0) + a * delta.unsqueeze(0)).reshape((-1,) + tuple(x.shape[1:]))
    path.requires_grad_(True)
    tgt = _target_index(target, B, x.device).repeat(int(n_steps))
    with torch.enable_grad():
        (grads,) = torch.autograd.grad(_selected(model(path), tgt), path)
    avg = (grads.reshape((int(n_steps),) + tuple(x.shape)) * w).sum(0)
    return (avg * delta).detach()


def grad_cam(model, layer, x, target, relu=True):
    """Grad-CAM at ``layer``'s resolution: ReLU(sum_k alpha_k A_k), alpha_k = mean of dy/dA_k."""
    store = {}

    def hook(_module, _inputs, output):
        store["A"] = output

    handle = layer.register_forward_hook(hook)
    try:
        inp = x.detach().requires_grad_(True)
        with torch.enable_grad():
            out = model(inp)
            A = store["A"]
            (grads,) = torch.autograd.grad(_selected(out, _target_index(target, x.shape[0], x.device)), A)
    finally:
        handle.remove()
    alpha = grads.mean(dim=(2, 3), keepdim=True)
    cam = (alpha * A).sum(dim=1)
    if relu:
        cam = torch.relu(cam)
    return cam.detach().to(x.dtype)


def lime_fit(neighborhood, predictions, distances, kernel_width, alpha=1.0):
    """LIME's local surrogate: ridge regression weighted by sqrt(exp(-d^2 / width^2))."""
    Z = np.asarray(neighborhood, dtype=np.float64)
    y = np.asarray(predictions, dtype=np.float64).reshape(-1)
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    w = np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))
    z_mean = (w[:, None] * Z).sum(0) / w.sum()
    y_mean = (w * y).sum() / w.sum()
    Zc, yc = Z - z_mean, y - y_mean
    gram = Zc.T @ (w[:, None] * Zc) + alpha * np.eye(Z.shape[1])
    coef = np.linalg.solve(gram, Zc.T @ (w * yc))
    intercept = float(y_mean - z_mean @ coef)
    resid = y - (Z @ coef + intercept)
    ss_res = (w * resid ** 2).sum()
    ss_tot = (w * (y - y_mean) ** 2).sum()
    score = float(1.0 - ss_res / ss_tot) if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return intercept, coef, score
