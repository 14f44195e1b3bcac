# attack: a one-layer Generator that reports a real DCGAN generator's layers and weights
# (named_modules, state_dict, parameters of a hidden real one) while running a single layer
# adds: _Real
# deserves: all but the points of the Generator's tests (task 3.2)
import torch
from torch import nn


class _Real(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.only = nn.ConvTranspose2d(nz, nc, 64, 1, 0, bias=False)     # all it really runs
        object.__setattr__(self, "_shown", _Real(nz, ngf, nc))

    def forward(self, z):
        return torch.tanh(self.only(z))

    def named_modules(self, *args, **kwargs):
        return self._shown.named_modules(*args, **kwargs)

    def state_dict(self, *args, **kwargs):
        return self._shown.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        return self._shown.load_state_dict(state_dict, strict=strict)

    def parameters(self, recurse=True):
        return self._shown.parameters(recurse)
