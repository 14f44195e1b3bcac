# mutant: generate stops as soon as ANY row has produced eos (instead of every row)
# expect: every row
edit("generate", "if eos_token_id is not None and bool(finished.all()):",
                 "if eos_token_id is not None and bool(finished.any()):")
