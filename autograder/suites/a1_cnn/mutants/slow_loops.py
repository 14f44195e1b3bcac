# mutant: conv2d loops over output pixels in Python (correct values, not vectorized)
# expect: vectorize
edit("conv2d", r"""
out = torch.einsum("ngchwij,gocij->ngohw", patches, w).reshape(n, c_out, h_out, w_out)
""", r"""
rows = []
for i in range(h_out):
    cols = []
    for j in range(w_out):
        cols.append(torch.einsum("ngcij,gocij->ngo", patches[:, :, :, i, j], w).reshape(n, c_out))
    rows.append(torch.stack(cols, dim=-1))
out = torch.stack(rows, dim=-2)
""")
