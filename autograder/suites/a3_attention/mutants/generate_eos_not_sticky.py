# mutant: generate stops when every row has produced eos, but a finished row keeps sampling new tokens
# expect: eos
import torch


def generate(model, prompt, max_new_tokens, generator, temperature=1.0, top_k=None, top_p=None,
             eos_token_id=None):
    tokens = prompt.to(torch.long)
    finished = torch.zeros(tokens.shape[0], dtype=torch.bool, device=tokens.device)
    for _ in range(int(max_new_tokens)):
        logits = model(tokens)[:, -1, :]
        next_ids = sample_next_token(logits, generator, temperature=temperature, top_k=top_k, top_p=top_p)
        next_ids = next_ids.to(device=tokens.device, dtype=torch.long)
        if eos_token_id is not None:
            finished = finished | (next_ids == int(eos_token_id))
        tokens = torch.cat([tokens, next_ids[:, None]], dim=1)
        if eos_token_id is not None and bool(finished.all()):
            break
    return tokens
