# mutant: conv_output_size with padding='same' returns the input size for every stride
# expect: same
edit("conv_output_size", 'out = tuple(math.ceil(n / s) for n, s in zip(a["size"], a["stride"]))',
                         'out = tuple(a["size"])')
