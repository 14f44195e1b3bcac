# mutant: ResidualBlock applies the last ReLU to F(x) before adding the shortcut (out = relu(F(x)) + x)
# expect: after the addition
edit("ResidualBlock", r"""
out = self.bn2(self.conv2(out))
# H(x) = F(x) + x, and the ReLU comes after the addition
return F.relu(out + identity)
""", r"""
out = F.relu(self.bn2(self.conv2(out)))
return out + identity
""")
