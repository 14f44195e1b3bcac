# mutant: ResidualBlock's 3x3 convolutions keep nn.Conv2d's default bias=True (extra parameters, the state dict does not load)
# expect: bias=False
edit("ResidualBlock", "self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)", "self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)")
edit("ResidualBlock", "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)", "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1)")
