# mutant: conv2d adds the bias inside the sum over kernel taps (bias counted kH*kW times)
# expect: bias
edit("conv2d", "out = out + bias.view(1, -1, 1, 1)",
               "out = out + bias.view(1, -1, 1, 1) * (kh * kw)")
