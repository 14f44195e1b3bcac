# mutant: one predict call per coalition
# expect: batched
edit("_coalition_values", "per_call = max(1, _MAX_ROWS // m)", "per_call = 1")
