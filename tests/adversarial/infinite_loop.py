# Never returns from conv2d.
def conv2d(*a, **k):
    while True:
        pass


def conv_output_size(*a, **k):
    return None


conv_transpose_output_size = receptive_field = separable_conv_params = conv_output_size
