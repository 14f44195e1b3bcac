# mutant: ddim_sample starts at T - 1 and steps down by ratio (trailing spacing), not at (num_steps - 1) * ratio
# expect: leading
edit("ddim_sample", r"""
for i in range(num_steps - 1, -1, -1):
    t = i * ratio
""", r"""
for i in range(num_steps):
    t = T - 1 - i * ratio
""")
