# Allocates and touches memory until stopped, at most 6 GiB (safe on a 24 GiB machine).
# Only receptive_field hogs, so the batch is not slowed by one hog per test.
import numpy as np

hog = []


def receptive_field(*a, **k):
    for _ in range(24):
        hog.append(np.ones(256 << 17))          # 256 MiB, written
    return None


def conv_output_size(*a, **k):
    return None


conv_transpose_output_size = conv2d = separable_conv_params = conv_output_size
