# mutant: transformer_encoder_layer's feed-forward network uses GELU instead of ReLU
# expect: relu
edit("transformer_encoder_layer", 'h = torch.relu(torch.nn.functional.linear(h, params["linear1.weight"], params["linear1.bias"]))', 'h = torch.nn.functional.gelu(torch.nn.functional.linear(h, params["linear1.weight"], params["linear1.bias"]))')
