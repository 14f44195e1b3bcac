# mutant: receptive field ignores the strides of earlier layers (no jump)
# expect: stride
edit("receptive_field", "jump *= s", "jump *= 1")
