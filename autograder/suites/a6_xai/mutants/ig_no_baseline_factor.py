# mutant: IG multiplies by x instead of (x - baseline)
# expect: baseline
edit("integrated_gradients", "return (avg * delta).detach()", "return (avg * x).detach()")
