# mutant: cycle-consistency loss uses the squared error instead of L1
# expect: L1
edit("cycle_consistency_loss", "return weight * ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean())", "return weight * (((rec_a - real_a) ** 2).mean() + ((rec_b - real_b) ** 2).mean())")
