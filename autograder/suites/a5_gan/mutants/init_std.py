# mutant: DCGAN init with std 0.2 instead of 0.02
# expect: 0.02
from torch import nn


def dcgan_init_(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, _CONV):
            nn.init.normal_(m.weight, 0.0, 0.2)
        elif isinstance(m, _NORM):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module
