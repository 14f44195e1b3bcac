# Floods stdout and stderr (8 MiB each per call, far above what is kept) before returning rubbish.
import sys

CHUNK = "y" * (1 << 20)


def conv_output_size(*a, **k):
    for _ in range(8):
        sys.stdout.write(CHUNK)
        sys.stderr.write(CHUNK)
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
