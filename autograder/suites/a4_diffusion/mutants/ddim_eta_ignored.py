# mutant: DDIM always adds sigma * noise, even with eta = 0 (sigma computed without eta)
# expect: eta
edit("ddim_step", "sigma2 = eta ** 2 * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)",
                  "sigma2 = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)")
edit("ddim_step", "if eta > 0:", "if True:")
