# mutant: saliency returns the signed gradient (no absolute value)
# expect: absolute
edit("saliency", "return grad.abs().detach()", "return grad.detach()")
