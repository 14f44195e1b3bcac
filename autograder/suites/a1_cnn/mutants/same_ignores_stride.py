# mutant: conv_output_size with padding='same' returns the input size for every stride
# expect: same


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """floor((size + 2p - d(k-1) - 1) / s) + 1 per spatial dim; 'same' -> ceil(size/s)."""
    args = dict(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        args["padding"] = padding
    ndim, a = _broadcast(args)
    for name in ("kernel_size", "stride", "dilation"):
        _check_positive(name, a[name])
    _check_positive("size", a["size"])
    if padding == "same":
        # TF-style 'same': the output covers every input pixel once per stride step
        out = tuple(a["size"])
    else:
        pads = (0,) * len(a["size"]) if padding == "valid" else a["padding"]
        if any(p < 0 for p in pads):
            raise ValueError(f"padding must be non-negative, got {padding}")
        # the dilated kernel spans d*(k-1)+1 pixels; count how many stride steps fit
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                    for n, k, s, p, d in zip(a["size"], a["kernel_size"], a["stride"], pads, a["dilation"]))
    if any(o <= 0 for o in out):
        raise ValueError(f"output size would be {out if ndim else out[0]}: the input size is smaller than "
                         "the dilated kernel_size after padding")
    return out if ndim is not None else out[0]
