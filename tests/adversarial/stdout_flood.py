# Floods stdout and stderr (32 MiB each per call) before returning rubbish.
import sys

CHUNK = "y" * (1 << 20)


def conv_output_size(*a, **k):
    for _ in range(32):
        sys.stdout.write(CHUNK)
        sys.stderr.write(CHUNK)
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
