# mutant: signal coefficient abar_t instead of sqrt(abar_t) in q_sample
# expect: sqrt
edit("q_sample", "return _gather(abar.sqrt(), t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise", "return _gather(abar, t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise")
