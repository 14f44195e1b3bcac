# mutant: conv_transpose_output_size ignores output_padding
# expect: output_padding


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """(size-1)s - 2p + d(k-1) + output_padding + 1 per spatial dim (inverse of the above)."""
    ndim, a = _broadcast(dict(size=size, kernel_size=kernel_size, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation))
    for name in ("size", "kernel_size", "stride", "dilation"):
        _check_positive(name, a[name])
    for name in ("padding", "output_padding"):
        if any(v < 0 for v in a[name]):
            raise ValueError(f"{name} must be non-negative")
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1
                for n, k, s, p, op, d in zip(a["size"], a["kernel_size"], a["stride"], a["padding"],
                                             a["output_padding"], a["dilation"]))
    if any(o <= 0 for o in out):
        raise ValueError(f"output size would be {out if ndim else out[0]}: padding is too large for this size")
    return out if ndim is not None else out[0]
