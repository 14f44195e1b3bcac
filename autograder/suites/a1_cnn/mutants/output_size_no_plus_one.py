# mutant: output size formula forgets the + 1 (off by one)
# expect: formula
edit("conv_output_size", "out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1",
                         "out = tuple((n + 2 * p - d * (k - 1) - 1) // s")
