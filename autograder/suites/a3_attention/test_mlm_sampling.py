"""Hidden tests, part 3: BERT masking (3.1) and next-token sampling (3.2).

Randomness is checked statistically with fixed seeds: every empirical count must lie
within 5 standard deviations of its exact expectation (a false alarm has probability
below 1e-6 per count; the seeds are fixed, so the verdict never changes between runs).
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import filtered_probs, nucleus_logits
from shared.compare import assert_close, assert_true
from shared.strategies import generator, randint, randn, seeds
from shared.i18n import N_


N_SD = 5.0
VOCAB, MASK_ID, SPECIAL = 1000, 3, (0, 1, 2)
MLM_HINT = (N_("BERT masked language model (MLM): choose each non-special token with probability mask_prob (15%); "
               "of the chosen, 80% -> [MASK], 10% -> a random id in [0, vocab_size), 10% kept as they are (80/10/10); "
               "labels = original id at chosen positions, -100 elsewhere"))
SPLIT_HINT = (N_("80/10/10: draw one more uniform number per chosen token: below 0.8 -> mask_token_id, 0.8-0.9 -> "
                 "random id uniform in [0, vocab_size), 0.9-1 -> keep the token"))
GEN_HINT = (N_("use only the generator argument for randomness (generator=generator in torch.rand / torch.randint "
               "/ torch.bernoulli / torch.multinomial), never the global RNG or a fixed seed"))
SAMPLE_HINT = (N_("sampling: divide the logits by the temperature, keep the top-k logits (others -inf), then top-p "
                  "(nucleus): sort the probabilities in decreasing order and keep the smallest prefix whose "
                  "cumulative probability reaches top_p (the token that crosses top_p is kept, and always at least "
                  "one token); renormalise and draw with torch.multinomial(..., generator=generator)"))


def _within(count: float, n: int, p: float) -> tuple[bool, float]:
    """Is a Binomial(n, p) count within N_SD standard deviations of n p?  (ok, z)"""
    sd = math.sqrt(n * p * (1 - p))
    if sd == 0:
        return count == n * p, 0.0 if count == n * p else math.inf
    z = abs(count - n * p) / sd
    return z <= N_SD, z


def _mlm_tokens(seed: int, shape=(200, 500)) -> torch.Tensor:
    tokens = randint(shape, seed, 5, VOCAB)
    where = randint(shape, seed + 1, 0, 10)
    special = randint(shape, seed + 2, 0, len(SPECIAL))
    return torch.where(where == 0, special, tokens)          # ~10% special tokens


# ---------------------------------------------------------------------- 3.1 mask_tokens
@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("statistics", "MLM")
@pytest.mark.parametrize("mask_prob", [0.15, 0.4])
def test_mask_tokens_selection_rate(student, mask_prob):
    """3.1 mask_tokens chooses mask_prob (15%) of the non-special tokens"""
    tokens = _mlm_tokens(1234)
    inputs, labels = student.mask_tokens(tokens, VOCAB, MASK_ID, generator(99), mask_prob=mask_prob,
                                         special_token_ids=SPECIAL)
    non_special = ~torch.isin(tokens, torch.tensor(SPECIAL))
    n = int(non_special.sum())
    chosen = int((labels != -100).sum())
    ok, z = _within(chosen, n, mask_prob)
    assert_true(ok, N_("your mask_tokens chose {rate:.2%} of the non-special tokens ({z:.1f} standard deviations "
                       "from mask_prob = {mask_prob:.0%}).").format(
                           rate=chosen / n, z=z, mask_prob=mask_prob), MLM_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(3)
@pytest.mark.tags("statistics", "80/10/10")
@pytest.mark.parametrize("seed", [7, 2024])
def test_mask_tokens_80_10_10(student, seed):
    """3.1 mask_tokens replaces 80% of the chosen tokens by [MASK], 10% by random ids, keeps 10%"""
    tokens = _mlm_tokens(seed)
    inputs, labels = student.mask_tokens(tokens, VOCAB, MASK_ID, generator(seed + 5), mask_prob=0.15,
                                         special_token_ids=SPECIAL)
    chosen = labels != -100
    c = int(chosen.sum())
    assert_true(c > 1000, N_("your mask_tokens chose almost no tokens (labels are -100 nearly everywhere)."), MLM_HINT)
    got, orig = inputs[chosen], tokens[chosen]
    # a random id equals [MASK] or the original token with probability 1/VOCAB each
    expected = {"[MASK]": 0.8 + 0.1 / VOCAB, "unchanged": 0.1 + 0.1 / VOCAB, "random": 0.1 * (1 - 2 / VOCAB)}
    counts = {"[MASK]": int((got == MASK_ID).sum()), "unchanged": int((got == orig).sum()),
              "random": int(((got != MASK_ID) & (got != orig)).sum())}
    for kind, p in expected.items():
        ok, z = _within(counts[kind], c, p)
        assert_true(ok, N_("your mask_tokens made {share:.1%} of the chosen tokens '{kind}' ({z:.1f} standard "
                           "deviations from the expected {p:.1%}).").format(
                               share=counts[kind] / c, kind=kind, z=z, p=p), SPLIT_HINT)
    rand_ids = got[(got != MASK_ID) & (got != orig)].to(torch.float64)
    assert_true(bool(((rand_ids >= 0) & (rand_ids < VOCAB)).all()),
                N_("your random replacement ids are outside [0, vocab_size)."), SPLIT_HINT)
    mean_sd = VOCAB / math.sqrt(12) / math.sqrt(max(len(rand_ids), 1))
    assert_true(abs(float(rand_ids.mean()) - (VOCAB - 1) / 2) <= N_SD * mean_sd + 5,
                N_("your random replacement ids are not uniform over [0, vocab_size) (their mean is off)."),
                SPLIT_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "MLM", "labels")
@settings(max_examples=10)
@given(seed=seeds, b=st.integers(1, 6), length=st.integers(1, 40), p=st.sampled_from([0.15, 0.5, 1.0]))
def test_mask_tokens_labels(student, seed, b, length, p):
    """3.1 mask_tokens labels: the original id at chosen positions, -100 elsewhere (inputs unchanged there)"""
    tokens = _mlm_tokens(seed, (b, length))
    inputs, labels = student.mask_tokens(tokens, VOCAB, MASK_ID, generator(seed), mask_prob=p,
                                         special_token_ids=SPECIAL)
    for name, t in (("inputs", inputs), ("labels", labels)):
        assert_true(isinstance(t, torch.Tensor) and tuple(t.shape) == tuple(tokens.shape)
                    and t.dtype == torch.int64,
                    N_("your {name} must be an int64 tensor with the shape of tokens.").format(name=name), MLM_HINT)
    chosen = labels != -100
    assert_close(labels[chosen], tokens[chosen], name=N_("labels at the chosen positions"),
                 hint=N_("labels hold the ORIGINAL token id at every chosen position (also where it was replaced "
                         "by [MASK] or a random id)"))
    assert_close(inputs[~chosen], tokens[~chosen], name=N_("inputs at positions that were not chosen"),
                 hint=N_("labels are -100 exactly at the positions that were not chosen, and those inputs keep "
                         "their token"))
    if p == 1.0:
        non_special = ~torch.isin(tokens, torch.tensor(SPECIAL))
        assert_close(chosen, non_special, name=N_("chosen positions with mask_prob=1"),
                     hint=N_("with mask_prob = 1 every non-special token is chosen"))


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("edge-case", "special tokens")
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_mask_tokens_never_masks_special_tokens(student, p):
    """3.1 mask_tokens never chooses special tokens ([CLS], [SEP], [PAD])"""
    tokens = _mlm_tokens(77, (20, 64))
    tokens[:, 0], tokens[:, -1] = 101, 102                   # [CLS] ... [SEP]
    tokens[5:, 50:] = 0                                     # [PAD]
    specials = (0, 101, 102)
    inputs, labels = student.mask_tokens(tokens, VOCAB, MASK_ID, generator(78), mask_prob=p,
                                         special_token_ids=specials)
    special = torch.isin(tokens, torch.tensor(specials))
    assert_true(bool((labels[special] == -100).all()),
                N_("your mask_tokens chose special tokens (their labels must be -100)."),
                N_("special tokens are never chosen: exclude positions whose id is in special_token_ids"))
    assert_close(inputs[special], tokens[special], name=N_("inputs at special tokens"),
                 hint=N_("special tokens are never chosen, so they are never replaced"))


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("reproducibility", "generator")
@pytest.mark.parametrize("seed", [3, 11])
def test_mask_tokens_uses_only_generator(student, seed):
    """3.1 mask_tokens: the same generator seed gives the same result whatever the global RNG, another seed not"""
    tokens = _mlm_tokens(seed, (16, 64))
    results = []
    # the grader reseeds the global RNGs before every call (with 0, or with global_seed's value):
    # a draw from torch's global RNG is then the same in every call, whatever the generator
    for global_seed, gen_seed in ((1234, seed), (99, seed), (1234, seed + 1)):
        with student.global_seed(global_seed):
            results.append(student.mask_tokens(tokens, VOCAB, MASK_ID, generator(gen_seed), mask_prob=0.5,
                                               special_token_ids=SPECIAL))
    (in1, lab1), (in2, lab2), (in3, lab3) = results
    same = torch.equal(in1, in2) and torch.equal(lab1, lab2)
    assert_true(same, N_("two calls with generators seeded the same gave different results under different states "
                         "of the global random generators."), GEN_HINT)
    assert_true(not torch.equal(lab1 != -100, lab3 != -100),
                N_("generators with different seeds chose the same positions."), GEN_HINT)
    assert_true(not torch.equal(in1[lab1 != -100], in3[lab1 != -100]) or not torch.equal(lab1, lab3),
                N_("generators with different seeds replaced the tokens in the same way."), GEN_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("statistics", "random ids")
@pytest.mark.parametrize("vocab", [8, 13])
def test_mask_tokens_random_ids_cover_the_vocabulary(student, vocab):
    """3.1 mask_tokens' random replacement ids are uniform over the whole range [0, vocab_size)"""
    token, mask_id = 5, 3
    tokens = torch.full((200, 500), token, dtype=torch.int64)      # every token chosen (mask_prob = 1)
    inputs, labels = student.mask_tokens(tokens, vocab, mask_id, generator(vocab + 40), mask_prob=1.0)
    n = tokens.numel()
    bad = inputs[(inputs < 0) | (inputs >= vocab)]
    if bad.numel():
        assert_true(False, N_("your random replacement ids include {token_id}, outside [0, vocab_size) = "
                              "[0, {vocab}).").format(token_id=int(bad[0]), vocab=vocab), SPLIT_HINT)
    counts = torch.bincount(inputs.reshape(-1), minlength=vocab)
    # a random id equal to [MASK] or to the kept token cannot be told apart: check the others,
    # each drawn with probability 0.1 / vocab
    for i in range(vocab):
        if i in (token, mask_id):
            continue
        ok, z = _within(int(counts[i]), n, 0.1 / vocab)
        assert_true(ok, N_("your random replacement ids contain {i} {count} times in {n} chosen tokens ({z:.1f} "
                           "standard deviations from the expected {expected:.0f}): the ids must be uniform over 0 .. "
                           "vocab_size - 1 = {last}.").format(
                               i=i, count=int(counts[i]), n=n, z=z, expected=n * 0.1 / vocab, last=vocab - 1),
                    N_("random ids are uniform over [0, vocab_size), both ends included: 0 and vocab_size - 1 "
                       "(torch.randint(0, vocab_size, ...) excludes its upper bound, vocab_size itself); ") + SPLIT_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "dtype")
def test_mask_tokens_int32_tokens(student):
    """3.1 mask_tokens with int32 tokens: inputs stay int32, labels are int64"""
    tokens = _mlm_tokens(21, (8, 40)).to(torch.int32)
    inputs, labels = student.mask_tokens(tokens, VOCAB, MASK_ID, generator(22), mask_prob=0.5,
                                         special_token_ids=SPECIAL)
    assert_true(isinstance(inputs, torch.Tensor) and inputs.dtype == torch.int32 and inputs.shape == tokens.shape,
                N_("your inputs have dtype {dtype}; expected int32 like the tokens.").format(
                    dtype=getattr(inputs, "dtype", None)),
                N_("inputs keep the tokens' dtype (they are fed to the model like the tokens)"))
    assert_true(isinstance(labels, torch.Tensor) and labels.dtype == torch.int64 and labels.shape == tokens.shape,
                N_("your labels have dtype {dtype}; expected int64 (torch.long).").format(
                    dtype=getattr(labels, "dtype", None)),
                N_("labels are always int64: they hold -100 and are the class-index targets F.cross_entropy "
                   "expects (labels = torch.where(chosen, tokens.long(), -100))"))
    chosen = labels != -100
    assert_close(labels[chosen], tokens[chosen].long(), name=N_("labels at the chosen positions"), hint=MLM_HINT)


# ---------------------------------------------------------------------- 3.2 sample_next_token
@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "greedy", "temperature")
@settings(max_examples=10)
@given(seed=seeds, b=st.integers(1, 8), vocab=st.integers(2, 50),
       extra=st.sampled_from([{}, {"top_k": 3}, {"top_p": 0.5}]))
def test_sample_temperature_zero_is_argmax(student, seed, b, vocab, extra):
    """3.2 sample_next_token with temperature 0 is greedy argmax"""
    logits = randn((b, vocab), seed, torch.float32, scale=3.0)
    got = student.sample_next_token(logits, generator(seed), temperature=0.0, **extra)
    assert_close(got, logits.argmax(-1), name=N_("greedy token ids"),
                 hint=N_("temperature == 0 means greedy decoding: return logits.argmax(-1) (an int64 tensor (B,)) "
                         "without dividing by zero"))


SAMPLING_CASES = {
    "temperature 1": dict(temperature=1.0, top_k=None, top_p=None),
    "temperature 0.5": dict(temperature=0.5, top_k=None, top_p=None),
    "temperature 2": dict(temperature=2.0, top_k=None, top_p=None),
    "top-k 4": dict(temperature=1.0, top_k=4, top_p=None),
    "top-p 0.7": dict(temperature=1.0, top_k=None, top_p=0.7),
    "top-p 0.9, temperature 0.7": dict(temperature=0.7, top_k=None, top_p=0.9),
    "top-k 6, top-p 0.8, temperature 1.5": dict(temperature=1.5, top_k=6, top_p=0.8),
}


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("statistics", "sampling", "top-p")
@pytest.mark.parametrize("case", list(SAMPLING_CASES))
def test_sample_distribution(student, case):
    """3.2 sample_next_token's empirical distribution equals the renormalised top-k/top-p probabilities"""
    cfg = SAMPLING_CASES[case]
    vocab, n = 12, 8000
    seed = 500 + list(SAMPLING_CASES).index(case)
    rows = [nucleus_logits(seed + j, vocab, cfg["temperature"], cfg["top_k"], cfg["top_p"]) for j in range(2)]
    # two different rows interleaved: the filters act on each row separately
    logits = torch.stack(rows).repeat(n, 1).to(torch.float32)
    got = student.sample_next_token(logits, generator(seed), **cfg)
    assert_true(isinstance(got, torch.Tensor) and tuple(got.shape) == (2 * n,) and got.dtype == torch.int64,
                N_("your sample_next_token must return an int64 tensor of shape (B,)."), SAMPLE_HINT)
    for j, row in enumerate(rows):
        p, _ = filtered_probs(row.to(torch.float32).numpy(), cfg["temperature"], cfg["top_k"], cfg["top_p"])
        counts = np.bincount(got[j::2].numpy(), minlength=vocab)
        assert_true(len(counts) == vocab, N_("your sample_next_token returned ids outside [0, V)."), SAMPLE_HINT)
        removed = int(counts[p == 0].sum())
        assert_true(removed == 0, N_("your samples include tokens that the top-k / top-p filters remove ({removed} "
                                     "of {n} draws).").format(removed=removed, n=n), SAMPLE_HINT)
        worst = max(_within(int(counts[i]), n, float(p[i]))[1] for i in range(vocab))
        assert_true(worst <= N_SD, N_("the empirical frequency of one token is {worst:.1f} standard deviations "
                                      "away from its renormalised probability (allowed {N_SD:g}).").format(
                                          worst=worst, N_SD=N_SD), SAMPLE_HINT)


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("edge-case", "top-p")
@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (3.0, None), (1.0, 5)])
def test_sample_tiny_top_p_keeps_one_token(student, temperature, top_k):
    """3.2 sample_next_token with a tiny top_p always keeps (and returns) the most probable token"""
    logits = randn((300, 20), 61, torch.float32, scale=1.0)
    got = student.sample_next_token(logits, generator(62), temperature=temperature, top_k=top_k, top_p=1e-6)
    assert_close(got, logits.argmax(-1), name=N_("token ids with top_p = 1e-6"),
                 hint=N_("top-p (nucleus) always keeps at least one token: the most probable one, even when its "
                         "probability alone exceeds top_p"))


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("edge-case", "top-k")
def test_sample_top_k_one_is_argmax(student):
    """3.2 sample_next_token with top_k=1 always returns the argmax"""
    logits = randn((200, 15), 71, torch.float32)
    got = student.sample_next_token(logits, generator(72), top_k=1)
    assert_close(got, logits.argmax(-1), name=N_("token ids with top_k = 1"),
                 hint=N_("top-k keeps the k largest logits and sets the others to -inf before the softmax"))


SAMPLER_RNG_CASES = {
    "temperature 1.2": dict(temperature=1.2),
    "top-k 5": dict(top_k=5),
    "top-p 0.9": dict(top_p=0.9),
    "temperature 0.8, top-k 10, top-p 0.95": dict(temperature=0.8, top_k=10, top_p=0.95),
}


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("reproducibility", "generator")
@pytest.mark.parametrize("case", list(SAMPLER_RNG_CASES))
def test_sample_uses_only_generator(student, case):
    """3.2 sample_next_token: the same generator seed gives the same tokens whatever the global RNG, another seed not"""
    logits = randn((64, 30), 81, torch.float32)
    results = []
    for global_seed, gen_seed in ((1234, 5), (99, 5), (1234, 6)):
        with student.global_seed(global_seed):
            results.append(student.sample_next_token(logits, generator(gen_seed), **SAMPLER_RNG_CASES[case]))
    assert_true(torch.equal(results[0], results[1]),
                N_("two calls with generators seeded the same gave different tokens under different states of the "
                   "global random generators."), GEN_HINT)
    assert_true(not torch.equal(results[0], results[2]),
                N_("generators with different seeds gave the same tokens."), GEN_HINT)
