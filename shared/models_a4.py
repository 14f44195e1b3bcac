"""Small noise-prediction models for a4_diffusion (``diffusion_loss`` takes a model).

They live in ``shared/`` so that they can cross into the isolated student worker
(SPEC / docs/authoring.md: modules built from ``torch.nn`` classes or classes defined
in ``shared/``).  Public and hidden tests use them; they contain nothing secret.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _sinusoid(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64, device=t.device) / half)
    args = t.to(torch.float64).reshape(-1, 1) * freqs
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class TinyEpsModel(nn.Module):
    """``eps_theta(x_t, t)`` for inputs ``(B, C, *spatial)`` of any rank >= 2.

    A per-position linear map over the channel dimension (a 1x1 convolution),
    a tanh, and a learned function of the sinusoidal timestep embedding added per
    channel.  Parameters are drawn from a generator seeded with ``seed`` so that two
    instances built with the same arguments are identical (no global RNG is touched).
    """

    def __init__(self, channels: int, emb_dim: int = 8, seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.emb_dim = emb_dim
        self.mix = nn.Linear(channels, channels, dtype=dtype)
        self.time = nn.Linear(emb_dim, channels, dtype=dtype)
        g = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64).to(dtype) * 0.5)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = self.mix(x.movedim(1, -1)).movedim(-1, 1)
        temb = self.time(_sinusoid(t, self.emb_dim).to(x.dtype))
        return torch.tanh(h) + temb.reshape(*temb.shape, *([1] * (x.dim() - 2)))
