# mutant: DCGAN init from a uniform distribution U(-0.02*sqrt(3), 0.02*sqrt(3)) (right std, wrong law)
# expect: init
from torch import nn


def dcgan_init_(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, _CONV):
            nn.init.uniform_(m.weight, -0.02 * 3 ** 0.5, 0.02 * 3 ** 0.5)
        elif isinstance(m, _NORM):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module
