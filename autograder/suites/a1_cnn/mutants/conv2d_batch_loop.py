# mutant: conv2d loops over batch items in Python (correct values; one im2col + einsum per image)
# expect: vectorize|batch
# adds: _conv2d_batch


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if x.dim() == 3:
        return _conv2d_batch(x, weight, bias, stride, padding, dilation, groups)
    return torch.cat([_conv2d_batch(x[i:i + 1], weight, bias, stride, padding, dilation, groups)
                      for i in range(x.shape[0])])


def _conv2d_batch(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Same result (and gradients) as F.conv2d, via im2col + one einsum."""
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    if x.dim() != 4 or weight.dim() != 4:
        raise ValueError("x must be (N, C, H, W) or (C, H, W) and weight (C_out, C_in/groups, kH, kW)")
    n, c, _, _ = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    if groups <= 0 or c % groups or c_out % groups or c // groups != c_per_group:
        raise ValueError(f"groups={groups} does not fit x with {c} channels and weight {tuple(weight.shape)}")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    _check_positive("stride", (sh, sw))
    _check_positive("dilation", (dh, dw))

    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions (stride > 1)")
            pads = _same_padding((kh, kw), (dh, dw))
        else:
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding")
        pads = (pw, pw, ph, ph)
    if any(pads):
        x = F.pad(x, pads)

    # a window spans d*(k-1)+1 input pixels (the dilated kernel); it must fit once
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if x.shape[2] < span_h or x.shape[3] < span_w:
        raise ValueError("the padded input is smaller than the dilated kernel_size")

    # im2col as a view: one window every `stride` pixels, then keep every d-th tap of
    # it -> (N, C, H_out, W_out, kH, kW), no copy yet
    patches = x.unfold(2, span_h, sh).unfold(3, span_w, sw)[..., ::dh, ::dw]
    h_out, w_out = patches.shape[2:4]

    # groups: channel block g of x only meets output block g of weight, so split both
    # and let einsum batch over the group axis (depthwise = groups == C)
    patches = patches.reshape(n, groups, c_per_group, h_out, w_out, kh, kw)
    w = weight.reshape(groups, c_out // groups, c_per_group, kh, kw)
    # one contraction over (input channel, kernel row, kernel column): einsum turns
    # this into a batched matmul, which is where all the flops go
    out = torch.einsum("ngchwij,gocij->ngohw", patches, w).reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)      # one bias per output channel
    return out[0] if unbatched else out
