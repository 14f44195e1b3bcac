# mutant: causal mask aligned at the bottom-right corner (j <= i + Lk - Lq)
# expect: top-left
edit("causal_mask", "return cols <= rows", "return cols <= rows + (length_k - length_q)")
