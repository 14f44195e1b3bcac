# Allocates and touches memory until stopped, at most 6 GiB (safe on a 24 GiB machine).
hog = []


def conv_output_size(*a, **k):
    for _ in range(24):
        hog.append(b"x" * (256 << 20))
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
