"""An a6_xai submission whose gradient methods call torch.autograd.grad without
torch.enable_grad(): correct code that loses no point because the speed checks run in the
same grad mode as the correctness checks (issue: speed checks unfair to correct code)."""
import itertools
import math

import numpy as np
import torch


def _values(predict, xs, background, masks):
    # one predict call for every instance and every coalition
    k, n = xs.shape
    m = background.shape[0]
    rows = np.where(masks[None, :, None, :], xs[:, None, None, :], background[None, None, :, :])
    out = np.asarray(predict(rows.reshape(-1, n)), dtype=float)
    return out.reshape(k, len(masks), m).mean(axis=2)


def shapley_values(predict, x, background):
    x = np.asarray(x, dtype=float)
    background = np.atleast_2d(np.asarray(background, dtype=float))
    xs = np.atleast_2d(x)
    n = xs.shape[1]
    masks = np.array(list(itertools.product([False, True], repeat=n)), dtype=bool).reshape(-1, n)
    v = _values(predict, xs, background, masks)            # (k, 2^n)
    # index of each mask: product() puts feature 0 in the most significant bit
    powers = 1 << np.arange(n - 1, -1, -1)
    index = masks.astype(np.int64) @ powers
    lookup = np.empty_like(index)
    lookup[index] = np.arange(len(index))
    size = masks.sum(axis=1)
    phi = np.zeros((xs.shape[0], n))
    for i in range(n):
        without = ~masks[:, i]
        s = size[without]
        w = 1.0 / (n * np.array([math.comb(n - 1, int(t)) for t in range(n)]))[s]
        partner = lookup[index[without] + powers[i]]
        phi[:, i] = (v[:, partner] - v[:, without]) @ w
    return phi[0] if x.ndim == 1 else phi


def kernel_shap(predict, x, background, n_samples, generator):
    x = np.asarray(x, dtype=float)
    background = np.atleast_2d(np.asarray(background, dtype=float))
    n = len(x)
    ends = _values(predict, x[None], background, np.array([[False] * n, [True] * n]))[0]
    base, full = ends
    if n == 1:
        return np.array([full - base])
    sizes = np.arange(1, n)
    p = (n - 1) / (sizes * (n - sizes))
    half = (int(n_samples) + 1) // 2
    s = generator.choice(sizes, size=half, p=p / p.sum())
    keys = generator.random((half, n))
    order = np.argsort(keys, axis=1)
    masks = np.zeros((half, n), dtype=bool)
    rows = np.arange(half)[:, None]
    masks[rows, order] = np.arange(n)[None, :] < s[:, None]
    masks = np.concatenate([masks, ~masks])                 # paired sampling
    y = _values(predict, x[None], background, masks)[0] - base
    Z = masks.astype(float)
    # equality-constrained least squares through its KKT system
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = Z.T @ Z
    kkt[:n, n] = kkt[n, :n] = 1.0
    rhs = np.append(Z.T @ y, full - base)
    sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    phi = sol[:n]
    return phi + (full - base - phi.sum()) / n


def partial_dependence(predict, X, feature, grid, centered=False):
    X = np.asarray(X, dtype=float)
    curves = []
    for value in np.asarray(grid, dtype=float):
        Z = X.copy()
        Z[:, feature] = value
        curves.append(np.asarray(predict(Z), dtype=float))
    ice = np.stack(curves, axis=1)
    if centered:
        ice = ice - ice[:, [0]]
    return ice.mean(axis=0), ice


def _pick(out, target):
    if not torch.is_tensor(target):
        target = torch.full((out.shape[0],), int(target), device=out.device)
    return out[torch.arange(out.shape[0], device=out.device), target.to(out.device).long()]


def saliency(model, x, target):
    # torch.autograd.grad with no torch.enable_grad(): correct wherever the caller left
    # gradients on, which is the default (the grader times calls in the same mode)
    x = x.clone().detach().requires_grad_()
    grad, = torch.autograd.grad(_pick(model(x), target).sum(), x)
    return grad.abs()


def integrated_gradients(model, x, target, baseline=None, n_steps=50, method="riemann_trapezoid"):
    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype, device=x.device) + torch.zeros_like(x)
    K = n_steps
    if method == "riemann_trapezoid":
        alphas = torch.linspace(0, 1, K, dtype=torch.float64)
        steps = torch.full((K,), 1.0 / K, dtype=torch.float64)
        steps[[0, -1]] = 0.5 / K
    else:
        start = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
        alphas = (torch.arange(K, dtype=torch.float64) + start) / K
        steps = torch.full((K,), 1.0 / K, dtype=torch.float64)
    alphas = alphas.to(x.device, x.dtype)
    steps = steps.to(x.device, x.dtype)
    shape = (K,) + (1,) * x.dim()
    points = (base + alphas.view(shape) * (x - base)).flatten(0, 1).detach().requires_grad_()
    if torch.is_tensor(target):
        target = target.repeat(K)
    grads, = torch.autograd.grad(_pick(model(points), target).sum(), points)
    grads = grads.view((K,) + tuple(x.shape))
    return torch.einsum("k,k...->...", steps, grads) * (x - base)


def grad_cam(model, layer, x, target, relu=True):
    saved = []
    handle = layer.register_forward_hook(lambda mod, inp, out: saved.append(out))
    try:
        out = model(x.detach().requires_grad_())
        act = saved[-1]
        act_grad, = torch.autograd.grad(_pick(out, target).sum(), act)
    finally:
        handle.remove()
    weights = act_grad.mean(dim=(-2, -1))
    cam = torch.einsum("bk,bkhw->bhw", weights, act.detach())
    return cam.clamp(min=0) if relu else cam


def lime_fit(neighborhood, predictions, distances, kernel_width, alpha=1.0):
    Z = np.asarray(neighborhood, dtype=float)
    y = np.asarray(predictions, dtype=float)
    pi = np.exp(-np.asarray(distances, dtype=float) ** 2 / kernel_width ** 2) ** 0.5
    N, n = Z.shape
    design = np.hstack([np.ones((N, 1)), Z]) * np.sqrt(pi)[:, None]
    penalty = np.hstack([np.zeros((n, 1)), np.sqrt(alpha) * np.eye(n)])
    A = np.vstack([design, penalty])
    b = np.concatenate([y * np.sqrt(pi), np.zeros(n)])
    beta = np.linalg.lstsq(A, b, rcond=None)[0]
    fitted = beta[0] + Z @ beta[1:]
    ybar = np.average(y, weights=pi)
    score = 1 - np.sum(pi * (y - fitted) ** 2) / np.sum(pi * (y - ybar) ** 2)
    return float(beta[0]), beta[1:], float(score)
