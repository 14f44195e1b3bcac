# mutant: kernel_shap draws the coalition sizes from the generator but the subsets from np.random (the global RNG)
# expect: generator
edit("kernel_shap", "ranks = generator.random((n_samples, n)).argsort(axis=1).argsort(axis=1)",
                    "ranks = np.random.random((n_samples, n)).argsort(axis=1).argsort(axis=1)")
