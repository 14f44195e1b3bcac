# mutant: output size formula rounds up (ceil) instead of floor division
# expect: formula
edit("conv_output_size", "out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1",
                         "out = tuple(math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1")
