# mutant: conv2d ignores dilation (kernel taps are always adjacent)
# expect: dilation
edit("conv2d", r"""
span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
""", r"""
span_h, span_w = kh, kw
dh = dw = 1
""")
