# mutant: generate calls sample_next_token only on the rows that have not finished (the generator's stream shifts)
# expect: whole batch
import torch


def generate(model, prompt, max_new_tokens, generator, temperature=1.0, top_k=None, top_p=None,
             eos_token_id=None):
    tokens = prompt.to(torch.long)
    finished = torch.zeros(tokens.shape[0], dtype=torch.bool, device=tokens.device)
    for _ in range(int(max_new_tokens)):
        logits = model(tokens)[:, -1, :]
        next_ids = torch.full((tokens.shape[0],), -1 if eos_token_id is None else int(eos_token_id),
                              dtype=torch.long, device=tokens.device)
        active = ~finished
        next_ids[active] = sample_next_token(logits[active], generator, temperature=temperature, top_k=top_k,
                                             top_p=top_p).to(device=tokens.device, dtype=torch.long)
        if eos_token_id is not None:
            finished = finished | (next_ids == int(eos_token_id))
        tokens = torch.cat([tokens, next_ids[:, None]], dim=1)
        if eos_token_id is not None and bool(finished.all()):
            break
    return tokens
