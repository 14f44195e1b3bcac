# mutant: LSTM gates split in the order i, f, o, g instead of i, f, g, o
# expect: gate order
edit("lstm_cell", "i, f, g, o = gates.chunk(4, dim=-1)", "i, f, o, g = gates.chunk(4, dim=-1)")

edit("lstm_forward", "i, f, g, o = gates.chunk(4, dim=-1)", "i, f, o, g = gates.chunk(4, dim=-1)")
