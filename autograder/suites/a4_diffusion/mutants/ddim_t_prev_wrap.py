# mutant: DDIM looks up abar[t_prev] even when t_prev < 0 (wraps to the end of the schedule)
# expect: t_prev
edit("ddim_step", "a_prev = float(abar[t_prev]) if t_prev >= 0 else 1.0",
                  "a_prev = float(abar[t_prev])")
