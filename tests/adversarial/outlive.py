# Starts processes meant to outlive the grader: a double-forked daemon in its own session
# and a detached child. Each stops by itself after 90 s at most.
import os
import subprocess
import sys
import time

MARKER = "@MARKER@"


def _daemon():
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with open(f"/tmp/{MARKER}-heartbeat", "a") as fh:
                fh.write(".")
        except OSError:
            pass
        time.sleep(0.2)
    os._exit(0)


def _child():
    try:
        subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(90)  # {MARKER}"],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        pass


_daemon()
_child()


def conv_output_size(*a, **k):
    _child()
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
