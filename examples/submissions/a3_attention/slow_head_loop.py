"""Example submission: every value is correct, but multi_head_attention loops over
the heads in Python.  Expected grade: everything passes except the speed check of
multi_head_attention with many heads (feedback: "vectorize")."""
import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scale = 1.0 / math.sqrt(q.size(-1))
    scores = torch.einsum("...id,...jd->...ij", q, k) * scale
    if mask is not None:
        keep = mask.to(device=q.device, dtype=torch.bool)
        keep = torch.broadcast_to(keep, torch.broadcast_shapes(keep.shape, scores.shape))
        scores = scores.masked_fill(~keep, float("-inf"))
        has_key = keep.any(dim=-1, keepdim=True)
        safe = torch.where(has_key, scores, torch.zeros_like(scores))
        row_max = safe.amax(dim=-1, keepdim=True)
        e = torch.exp(safe - row_max) * keep
        denom = e.sum(dim=-1, keepdim=True)
        weights = e / torch.where(has_key, denom, torch.ones_like(denom))
    else:
        weights = scores.softmax(dim=-1)
    return torch.einsum("...ij,...jd->...id", weights, v), weights


def causal_mask(length_q, length_k=None, device=None):
    if length_k is None:
        length_k = length_q
    return torch.ones(length_q, length_k, dtype=torch.bool, device=device).tril()


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    E = query.size(-1)
    dh = E // num_heads
    bias = in_proj_bias if in_proj_bias is not None else torch.zeros(3 * E, dtype=query.dtype)
    q = query @ in_proj_weight[:E].t() + bias[:E]
    k = key @ in_proj_weight[E:2 * E].t() + bias[E:2 * E]
    v = value @ in_proj_weight[2 * E:].t() + bias[2 * E:]
    heads, weights = [], []
    for h in range(num_heads):                      # one head at a time: correct but slow
        cols = slice(h * dh, (h + 1) * dh)
        o, w = scaled_dot_product_attention(q[..., cols], k[..., cols], v[..., cols], mask)
        heads.append(o)
        weights.append(w)
    out = torch.cat(heads, dim=-1) @ out_proj_weight.t()
    if out_proj_bias is not None:
        out = out + out_proj_bias
    return out, torch.stack(weights).mean(dim=0)


def sinusoidal_positional_encoding(length, d_model):
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    col = torch.arange(d_model)
    i2 = (col - col % 2).to(torch.float64)
    angle = pos * torch.exp(-math.log(10000.0) * i2 / d_model)
    pe = torch.where(col % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe.float()


def mask_tokens(tokens, vocab_size, mask_token_id, generator, mask_prob=0.15, special_token_ids=()):
    cpu = tokens.cpu()
    probs = torch.full(cpu.shape, float(mask_prob))
    if len(special_token_ids):
        probs[torch.isin(cpu, torch.tensor(list(special_token_ids), dtype=cpu.dtype))] = 0.0
    chosen = torch.bernoulli(probs, generator=generator).bool()
    labels = torch.where(chosen, cpu.long(), torch.full_like(cpu, -100, dtype=torch.long))
    inputs = cpu.clone()
    replaced = torch.bernoulli(torch.full(cpu.shape, 0.8), generator=generator).bool() & chosen
    inputs[replaced] = mask_token_id
    randomized = torch.bernoulli(torch.full(cpu.shape, 0.5), generator=generator).bool() & chosen & ~replaced
    words = torch.randint(vocab_size, cpu.shape, generator=generator, dtype=cpu.dtype)
    inputs[randomized] = words[randomized]
    return inputs.to(tokens.device), labels.to(tokens.device)


def sample_next_token(logits, generator, temperature=1.0, top_k=None, top_p=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    x = logits.detach().double() / temperature
    if top_k is not None:
        k = min(top_k, x.size(-1))
        threshold = torch.topk(x, k).values[:, -1:]
        x = torch.where(x < threshold, torch.full_like(x, -math.inf), x)
    if top_p is not None:
        ascending, idx = torch.sort(x, dim=-1)
        cum = ascending.softmax(dim=-1).cumsum(dim=-1)
        remove = cum <= 1 - top_p
        remove[:, -1] = False
        x = x.masked_fill(remove.scatter(1, idx, remove), -math.inf)
    probs = x.softmax(dim=-1).cpu()
    return torch.multinomial(probs, num_samples=1, generator=generator).view(-1).to(logits.device)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = [normalized_shape]
    k = len(normalized_shape)
    flat = x.reshape(*x.shape[:x.dim() - k], -1)          # the normalised dims as one
    mu = flat.mean(dim=-1, keepdim=True)
    var = flat.var(dim=-1, unbiased=False, keepdim=True)
    out = ((flat - mu) / torch.sqrt(var + eps)).reshape(x.shape)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def transformer_encoder_layer(x, params, num_heads, mask=None, norm_first=False, eps=1e-5):
    p = params
    E = x.size(-1)

    def attend(h):
        return multi_head_attention(h, h, h, num_heads, p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"],
                                    p["self_attn.out_proj.weight"], p["self_attn.out_proj.bias"], mask)[0]

    def ffn(h):
        hidden = torch.relu(h @ p["linear1.weight"].t() + p["linear1.bias"])
        return hidden @ p["linear2.weight"].t() + p["linear2.bias"]

    def ln(h, i):
        return layer_norm(h, E, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)

    if norm_first:
        x = x + attend(ln(x, 1))
        return x + ffn(ln(x, 2))
    x = ln(x + attend(x), 1)
    return ln(x + ffn(x), 2)


def lm_loss(logits, tokens, ignore_index=-100):
    z = logits[:, :-1]
    y = tokens[:, 1:]
    valid = y != ignore_index
    m = z.amax(dim=-1, keepdim=True)
    log_norm = m.squeeze(-1) + torch.log(torch.exp(z - m).sum(dim=-1))
    picked = torch.gather(z, -1, torch.where(valid, y, torch.zeros_like(y)).long().unsqueeze(-1)).squeeze(-1)
    per_token = (log_norm - picked) * valid
    return per_token.sum() / valid.sum()


def generate(model, prompt, max_new_tokens, generator, temperature=1.0, top_k=None, top_p=None,
             eos_token_id=None):
    seq = prompt.long()
    done = torch.zeros(seq.size(0), dtype=torch.bool, device=seq.device)
    for _ in range(max_new_tokens):
        if eos_token_id is not None and bool(done.all()):
            break
        nxt = sample_next_token(model(seq)[:, -1], generator, temperature, top_k, top_p).to(seq.device)
        if eos_token_id is not None:
            nxt = nxt.masked_fill(done, eos_token_id)
            done = done | nxt.eq(eos_token_id)
        seq = torch.cat((seq, nxt.long().unsqueeze(1)), dim=1)
    return seq
