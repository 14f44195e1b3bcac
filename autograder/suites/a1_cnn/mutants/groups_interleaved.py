# mutant: conv2d assigns channels to groups round-robin (c % groups) instead of in contiguous blocks
# expect: groups
edit("conv2d", "patches = patches.reshape(n, groups, c_per_group, h_out, w_out, kh, kw)",
               "patches = patches.reshape(n, c_per_group, groups, h_out, w_out, kh, kw).transpose(1, 2)")
