# mutant: ResidualBlock strides in conv2 instead of conv1 (same shapes, different outputs)
# expect: stride belongs to conv1
edit("ResidualBlock", "self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)", "self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1, bias=False)")
edit("ResidualBlock", "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)", "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=stride, padding=1, bias=False)")
