# mutant: conv2d loops over batch items in Python (correct values; one im2col + einsum per image)
# expect: vectorize|batch
edit("conv2d", r"""
unbatched = x.dim() == 3
""", r"""
if x.dim() == 4:                                # one image at a time, through the unbatched path
    return torch.stack([conv2d(xi, weight, bias, stride, padding, dilation, groups) for xi in x])
unbatched = x.dim() == 3
""")
