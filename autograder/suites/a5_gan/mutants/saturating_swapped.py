# mutant: saturating and non-saturating generator losses swapped
# expect: saturating
edit("generator_loss", "if saturating:", "if not saturating:")
