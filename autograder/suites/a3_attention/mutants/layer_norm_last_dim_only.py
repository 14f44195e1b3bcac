# mutant: layer_norm always normalises over the last dim only, whatever normalized_shape says
# expect: normalized_shape
edit("layer_norm", "dims = tuple(range(-n, 0))", "dims = (-1,)")
