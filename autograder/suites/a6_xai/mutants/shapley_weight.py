# mutant: Shapley weight |S|!(n-|S|)!/n! instead of |S|!(n-|S|-1)!/n!
# expect: weight
edit("shapley_values", "weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])", "weight = np.array([math.factorial(s) * math.factorial(n - s) / math.factorial(n) for s in range(n)])")
