# mutant: conv_transpose_output_size ignores output_padding
# expect: output_padding
edit("conv_transpose_output_size", "out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1",
                                   "out = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1")
