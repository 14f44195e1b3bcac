"""Models for the a6_xai tests (public and hidden).

Gradient-method tests pass ``nn.Module`` instances into the student's process; only
``torch.nn`` classes and classes defined in ``shared/`` may cross, so the one custom
model (:class:`QuadraticForm`, whose input gradient has a closed form) lives here,
next to builders that return seeded ``nn.Sequential`` models.
"""
from __future__ import annotations

import torch
from torch import nn


def seeded_(model: nn.Module, seed: int, scale: float = 0.5, dtype=torch.float64, device="cpu") -> nn.Module:
    """Fill every parameter from its own seeded generator (N(0, scale^2)); returns the model."""
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * scale)
    return model.to(dtype=dtype, device=device)


class QuadraticForm(nn.Module):
    """``out[:, c] = x^T Q_c x + b_c^T x``, with ``Q (classes, n, n)`` and ``b (classes, n)``.

    Its input gradient is ``(Q_c + Q_c^T) x + b_c``: a closed form for saliency and
    Integrated Gradients checks.
    """

    def __init__(self, n_features: int, classes: int):
        super().__init__()
        self.Q = nn.Parameter(torch.zeros(classes, n_features, n_features))
        self.b = nn.Parameter(torch.zeros(classes, n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        return torch.einsum("bi,cij,bj->bc", x, self.Q, x) + x @ self.b.T

    def input_gradient(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """d out[b, target[b]] / d x[b] in closed form (for the tests, not for students)."""
        q = self.Q.detach()[target]                        # (B, n, n)
        sym = q + q.transpose(1, 2)
        return torch.einsum("bij,bj->bi", sym, x.reshape(x.shape[0], -1)) + self.b.detach()[target]


def quadratic(n_features: int, classes: int, seed: int, dtype=torch.float64, device="cpu") -> QuadraticForm:
    return seeded_(QuadraticForm(n_features, classes), seed, 0.5, dtype, device)


def linear(n_features: int, classes: int, seed: int, dtype=torch.float64, device="cpu") -> nn.Sequential:
    """Flatten + Linear: the input gradient of class c is W[c] (reshaped like the input)."""
    return seeded_(nn.Sequential(nn.Flatten(), nn.Linear(n_features, classes)), seed, 0.5, dtype, device)


def smooth_mlp(n_features: int, classes: int, seed: int, hidden: int = 16, dtype=torch.float64,
               device="cpu") -> nn.Sequential:
    """Linear-Tanh-Linear: smooth, so Riemann sums of its path gradients converge."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, classes))
    return seeded_(model, seed, 0.7, dtype, device)


def small_cnn(in_channels: int, classes: int, seed: int, channels: int = 6, dtype=torch.float64,
              device="cpu") -> nn.Sequential:
    """conv(3x3) - ReLU - conv(3x3, stride 2) - ReLU - GAP - Linear.

    ``model[2]`` is the strided convolution and ``model[3]`` its ReLU: a Grad-CAM layer
    whose resolution (about half the input's) differs from the input's.
    """
    model = nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))
    return seeded_(model, seed, 0.5, dtype, device)


def cam_head_cnn(in_channels: int, classes: int, seed: int, channels: int = 5, dtype=torch.float64,
                 device="cpu") -> nn.Sequential:
    """conv - Tanh - conv(stride 2) - GAP - Linear (no activation after the last conv).

    For ``layer = model[2]`` the gradient of class c with respect to ``A_k`` is
    ``W[c, k] / (H' W')`` at every position, so Grad-CAM without ReLU equals
    ``sum_k W[c, k] A_k / (H' W')`` (CAM divided by the map's area): a closed form.
    Activations take both signs, so the ReLU matters.
    """
    model = nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1), nn.Tanh(),
        nn.Conv2d(channels, channels, 3, stride=2, padding=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))
    return seeded_(model, seed, 0.5, dtype, device)
