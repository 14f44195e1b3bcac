# mutant: IG trapezoid ignores the halved end step sizes
# expect: step sizes
edit("_riemann", r"""
steps[0] /= 2
steps[-1] /= 2
""", "")
