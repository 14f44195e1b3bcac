# mutant: receptive field ignores the strides of earlier layers (no jump)
# expect: stride


def receptive_field(layers):
    """r = 1 + sum_l d_l (k_l - 1) * prod_{i<l} s_i"""
    rf, jump = 1, 1
    for layer in layers:
        k, s, d = (*layer, 1)[:3]          # dilation defaults to 1
        # one more layer widens the field by its dilated kernel span, measured in
        # input pixels: neighbouring units of this layer are `jump` input pixels apart
        rf += d * (k - 1) * jump
        jump *= 1
    return rf
