# mutant: KernelSHAP enumerates coalitions with equal weights instead of the Shapley kernel
# expect: kernel
edit("kernel_shap", "weights = kernel[s - 1] / np.array([math.comb(n, int(k)) for k in s])",
                    "weights = np.ones(len(s))")
