# mutant: conv2d 'same' padding puts the odd extra pixel on the left/top
# expect: same
edit("_same_padding", "return (tw // 2, tw - tw // 2, th // 2, th - th // 2)",
                      "return (tw - tw // 2, tw // 2, th - th // 2, th // 2)")
