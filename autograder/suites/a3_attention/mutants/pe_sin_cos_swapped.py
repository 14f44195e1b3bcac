# mutant: positional encoding with cos in the even and sin in the odd columns
# expect: positional
edit("sinusoidal_positional_encoding", r"""
pe[:, 0::2] = torch.sin(angles)
pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
""", r"""
pe[:, 0::2] = torch.cos(angles)
pe[:, 1::2] = torch.sin(angles[:, : d_model // 2])
""")
