# mutant: coalition value f(x_S, mean background) instead of the mean of f over the background rows
# expect: background
edit("_coalition_values", r'''
"""v(S) = mean_j f(x_S, b_j,~S) for every coalition mask (C, n), in batched calls."""
m, n = background.shape
''', r'''
"""v(S) = mean_j f(x_S, b_j,~S) for every coalition mask (C, n), in batched calls."""
background = background.mean(axis=0, keepdims=True)
m, n = background.shape
''')
