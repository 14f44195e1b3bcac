# mutant: transformer_encoder_layer ignores norm_first (always post-norm)
# expect: pre-norm
edit("transformer_encoder_layer", r"""
if norm_first:          # pre-norm: x + sublayer(LN(x)); the residual path stays un-normalised
    x = x + self_attention(norm(x, "norm1"))
    x = x + feed_forward(norm(x, "norm2"))
else:                   # post-norm (the original Transformer): LN(x + sublayer(x))
    x = norm(x + self_attention(x), "norm1")
    x = norm(x + feed_forward(x), "norm2")
""", r"""
x = norm(x + self_attention(x), "norm1")
x = norm(x + feed_forward(x), "norm2")
""")
