# mutant: kernel_shap ignores the generator argument and samples with a generator of its own (np.random.default_rng(0))
# expect: generator
edit("kernel_shap", r"""
s = generator.choice(sizes_all, size=n_samples, p=kernel / kernel.sum())
ranks = generator.random((n_samples, n)).argsort(axis=1).argsort(axis=1)
""", r"""
rng = np.random.default_rng(0)
s = rng.choice(sizes_all, size=n_samples, p=kernel / kernel.sum())
ranks = rng.random((n_samples, n)).argsort(axis=1).argsort(axis=1)
""")
