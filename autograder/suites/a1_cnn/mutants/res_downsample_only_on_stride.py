# mutant: ResidualBlock adds the downsample projection only when stride != 1 (forgets the channel change)
# expect: downsample
edit("ResidualBlock", r"""
if stride != 1 or in_channels != out_channels:
""", r"""
self.downsample = None
if stride != 1:
""")
edit("ResidualBlock", r"""
else:
    self.downsample = None                  # identity shortcut: nothing to learn
""", "")
