# mutant: separable_conv_params forgets the bias of the pointwise 1x1 conv
# expect: pointwise
edit("separable_conv_params", "pointwise = out_channels * in_channels + b * out_channels",
                              "pointwise = out_channels * in_channels")
