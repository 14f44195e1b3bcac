# mutant: pre-norm adds the sublayer output to the NORMALISED input (x = LN(x) + SA(LN(x)))
# expect: un-normalised
edit("transformer_encoder_layer", r"""
x = x + self_attention(norm(x, "norm1"))
x = x + feed_forward(norm(x, "norm2"))
""", r"""
x = norm(x, "norm1")
x = x + self_attention(x)
x = norm(x, "norm2")
x = x + feed_forward(x)
""")
