"""Hidden tests, part 3 (continued): the next-token loss (3.3) and the generation loop (3.4).

lm_loss is compared with F.cross_entropy on the shifted positions (values and gradients).
generate is compared token for token with the reference fed the same generator seed; its
tests substitute the reference's sample_next_token for the student's (the grader does so
for every task that calls another graded function), so a sampling bug is charged to 3.2
only.  The language models are plain callables that stay in the grader and record how
they are called."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import SuccessorLM, ToyLM
from shared.compare import assert_close, assert_true
from shared.strategies import float_dtypes, generator, rand, randint, randn, seeds
from shared.i18n import N_


LM_HINT = (N_("next-token loss: the logits at position i predict the token at i + 1, so score logits[:, :-1] "
              "against tokens[:, 1:] (shift by one); per position logsumexp(z) - z[target]; average over the "
              "targets that are not ignore_index"))
SHIFT_HINT = (N_("shift by one: logits[:, :-1] (positions 0 .. L-2) are scored against tokens[:, 1:] (positions 1 "
                 ".. L-1); the last position has no target and the first token is never predicted"))
IGNORE_HINT = (N_("targets equal to ignore_index count neither in the sum nor in the number of terms: divide by "
                  "the number of targets != ignore_index, not by B * (L - 1); use the ignore_index argument"))
STABLE_HINT = (N_("-log softmax(z)[y] = logsumexp(z) - z[y]: torch.logsumexp subtracts the row max, so logits of "
                  "+-1e4 stay finite; log(softmax(z)) underflows to log(0) = -inf and exp(z) overflows"))
LM_APIS = ("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss", "torch.nn.CrossEntropyLoss.forward",
           "torch.nn.functional.log_softmax", "torch.log_softmax")

GEN_HINT = (N_("generation: each step calls model(tokens) on the whole sequence so far, takes the LAST position's "
               "logits model(tokens)[:, -1, :], calls sample_next_token once on the whole batch with the generator "
               "(and temperature, top_k, top_p), and appends the new tokens (torch.cat along dim 1)"))
LAST_HINT = (N_("the next token comes from the logits of the LAST position, model(tokens)[:, -1, :], the "
                "prediction after everything generated so far"))
EOS_HINT = (N_("eos: a row that has produced eos_token_id keeps producing it (replace whatever was sampled for "
               "that row); stop as soon as EVERY row has produced eos (then fewer than max_new_tokens tokens are "
               "added), else after max_new_tokens steps; an eos inside the prompt does not count"))
CALLS_HINT = (N_("call sample_next_token exactly once per step on the (B, V) last-position logits of the WHOLE "
                 "batch (also the rows that have finished), so the generator's random stream does not depend on "
                 "which rows are done"))
RNG_HINT = (N_("use only the generator argument for randomness: pass it to sample_next_token (generator=generator "
               "in torch.rand / torch.randint / torch.multinomial), never the global RNG (torch.rand(shape), "
               "torch.rand_like, torch.multinomial without generator=) nor a generator of your own"))


def _cross_entropy(logits, tokens, ignore_index=-100):
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), ignore_index=ignore_index)


def _lm_batch(seed, b, length, vocab, dtype, scale=2.0, p_ignore=0.0, ignore_index=-100):
    logits = randn((b, length, vocab), seed, dtype, scale=scale)
    tokens = randint((b, length), seed + 1, 0, vocab)
    if p_ignore > 0:
        drop = rand((b, length), seed + 2) < p_ignore
        drop[0, 1] = False                                  # always keep at least one target
        tokens = torch.where(drop, torch.full_like(tokens, ignore_index), tokens)
    return logits, tokens


# ---------------------------------------------------------------------- 3.3 lm_loss
@pytest.mark.task("3.3")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=15)
@given(seed=seeds, b=st.integers(1, 4), length=st.integers(2, 9), vocab=st.integers(2, 20), dtype=float_dtypes,
       p_ignore=st.sampled_from([0.0, 0.3]))
def test_lm_loss_matches_cross_entropy(student, seed, b, length, vocab, dtype, p_ignore):
    """3.3 lm_loss equals F.cross_entropy on logits[:, :-1] and tokens[:, 1:]"""
    logits, tokens = _lm_batch(seed, b, length, vocab, dtype, p_ignore=p_ignore)
    expected = _cross_entropy(logits, tokens)
    assert_close(student.lm_loss(logits, tokens), expected, name="lm_loss", hint=LM_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "shift")
def test_lm_loss_shift_by_one(student):
    """3.3 lm_loss scores the logits at position i against the token at position i + 1"""
    vocab, length = 7, 9
    tokens = randint((3, length), 51, 0, vocab)
    # a model that always predicts the NEXT token perfectly: the shifted loss is ~0
    logits = 20.0 * F.one_hot(torch.roll(tokens, -1, dims=1), vocab).to(torch.float64)
    logits = logits + randn(logits.shape, 52, scale=0.1)
    expected = _cross_entropy(logits, tokens)
    assert_close(student.lm_loss(logits, tokens), expected, name=N_("lm_loss of a perfect next-token model"),
                 hint=SHIFT_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "ignore_index")
@pytest.mark.parametrize("ignore_index", [-100, 0, -1])
def test_lm_loss_ignore_index(student, ignore_index):
    """3.3 lm_loss leaves the ignore_index targets out of the mean (padding)"""
    vocab = 9
    logits = randn((4, 12, vocab), 53, scale=2.0)
    tokens = randint((4, 12), 54, 1, vocab)
    tokens[1, 6:] = ignore_index                            # a padded sequence
    tokens[3, 2] = ignore_index
    expected = _cross_entropy(logits, tokens, ignore_index=ignore_index)
    assert_close(student.lm_loss(logits, tokens, ignore_index=ignore_index), expected,
                 name=N_("lm_loss with ignore_index={ignore_index}").format(
                     ignore_index=ignore_index), hint=IGNORE_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("stability", "large logits")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_lm_loss_large_logits(student, dtype, scale):
    """3.3 lm_loss stays finite and exact for logits up to +-1e4"""
    logits, tokens = _lm_batch(55, 3, 8, 11, dtype, scale=1.0, p_ignore=0.2)
    logits = logits / logits.abs().max() * scale
    expected = _cross_entropy(logits, tokens)
    assert_close(student.lm_loss(logits, tokens), expected, name=N_("lm_loss with logits up to {scale:g}").format(
        scale=scale),
                 hint=STABLE_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("autograd", "torch")
@settings(max_examples=6)
@given(seed=seeds, b=st.integers(1, 3), length=st.integers(2, 7), vocab=st.integers(2, 12))
def test_lm_loss_gradients(student, seed, b, length, vocab):
    """3.3 lm_loss gradient with respect to the logits equals F.cross_entropy's"""
    logits, tokens = _lm_batch(seed, b, length, vocab, torch.float64, p_ignore=0.3)
    t_logits = logits.clone().requires_grad_(True)
    _cross_entropy(t_logits, tokens).backward()
    s_logits = logits.clone().requires_grad_(True)
    student.lm_loss(s_logits, tokens).backward()
    assert_true(s_logits.grad is not None, N_("no gradient reached the logits: keep the computation differentiable."),
                N_("use torch operations only (no .item(), .detach() or .numpy()) between the logits and the loss"))
    assert_close(s_logits.grad, t_logits.grad, name=N_("gradient of the logits"),
                 hint=LM_HINT + N_("; the last position and the ignored targets get zero gradient"))


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_lm_loss_without_cross_entropy(student):
    """3.3 lm_loss works without F.cross_entropy / F.nll_loss / log_softmax"""
    logits, tokens = _lm_batch(57, 2, 6, 5, torch.float64)
    with student.forbid("lm_loss", *LM_APIS):
        got = student.lm_loss(logits, tokens)
    # only the forbidden calls are judged here: a wrong value is charged by the tests above
    assert_true(isinstance(got, torch.Tensor), N_("your lm_loss did not return a tensor."), LM_HINT)


# ---------------------------------------------------------------------- 3.4 generate
GEN_CASES = {
    "temperature 1": dict(temperature=1.0),
    "temperature 0.7, top-k 4": dict(temperature=0.7, top_k=4),
    "top-p 0.8": dict(top_p=0.8),
    "temperature 1.3, top-k 6, top-p 0.9": dict(temperature=1.3, top_k=6, top_p=0.9),
    "greedy": dict(temperature=0.0),
}


class _Recorder:
    """The reference's sample_next_token, substituted for the student's: records each call."""

    def __init__(self, reference):
        self.reference = reference
        self.calls: list[tuple] = []

    def __call__(self, logits, generator, temperature=1.0, top_k=None, top_p=None):
        self.calls.append((torch.as_tensor(logits).detach().clone(), temperature, top_k, top_p))
        return self.reference.sample_next_token(logits, generator, temperature=temperature, top_k=top_k,
                                                top_p=top_p)


def _generate(student, reference, *args, **kwargs):
    """The student's generate with the reference's sample_next_token."""
    with student.substitute({"sample_next_token": reference.sample_next_token}):
        return student.generate(*args, **kwargs)


@pytest.mark.task("3.4")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "sampling")
@pytest.mark.parametrize("case", list(GEN_CASES))
@settings(max_examples=4)
@given(seed=seeds, b=st.integers(1, 4), length=st.integers(1, 5), vocab=st.integers(3, 12),
       new=st.integers(1, 8))
def test_generate_matches_reference(student, reference, case, seed, b, length, vocab, new):
    """3.4 generate equals the reference fed the same generator seed"""
    cfg = GEN_CASES[case]
    prompt = randint((b, length), seed, 0, vocab)
    expected = reference.generate(ToyLM(vocab, seed + 1), prompt, new, generator(seed + 2), **cfg)
    got = _generate(student, reference, ToyLM(vocab, seed + 1), prompt, new, generator(seed + 2), **cfg)
    assert_close(got, expected, name=N_("generated tokens"), hint=GEN_HINT)


@pytest.mark.task("3.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "greedy", "closed-form")
@settings(max_examples=6)
@given(seed=seeds, b=st.integers(1, 4), length=st.integers(1, 6), vocab=st.integers(3, 15), new=st.integers(1, 6))
def test_generate_greedy_closed_form(student, reference, seed, b, length, vocab, new):
    """3.4 generate with temperature 0 is greedy decoding from the last position's logits"""
    model, prompt = ToyLM(vocab, seed + 1), randint((b, length), seed, 0, vocab)
    tokens = prompt.clone()
    for _ in range(new):                                   # the greedy chain, built here
        tokens = torch.cat([tokens, model.logits(tokens)[:, -1].argmax(-1, keepdim=True)], dim=1)
    got = _generate(student, reference, model, prompt, new, generator(seed + 2), temperature=0.0)
    assert_close(got, tokens, name=N_("greedy generated tokens"), hint=LAST_HINT + "; " + GEN_HINT)


@pytest.mark.task("3.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "protocol")
@pytest.mark.parametrize("case", ["temperature 0.7, top-k 4", "temperature 1.3, top-k 6, top-p 0.9"])
def test_generate_calls(student, reference, case):
    """3.4 generate calls the model once per step on the sequence so far, and sample_next_token once per step"""
    cfg = GEN_CASES[case]
    vocab, new = 10, 6
    model, prompt = ToyLM(vocab, 61), randint((3, 4), 62, 0, vocab)
    sampler = _Recorder(reference)
    with student.substitute({"sample_next_token": sampler}):
        got = student.generate(model, prompt, new, generator(63), **cfg)
    assert_true(isinstance(got, torch.Tensor) and tuple(got.shape) == (3, 4 + new) and got.dtype == torch.int64,
                N_("your generate must return an int64 tensor of shape (B, L + max_new_tokens) = (3, {length}) here "
                   "(no eos_token_id).").format(length=4 + new), GEN_HINT)
    assert_true(len(model.calls) == new, N_("your generate called the model {calls} times for {new} new tokens; "
                                            "expected once per step.").format(
                                                calls=len(model.calls), new=new), GEN_HINT)
    for i, seen in enumerate(model.calls):
        assert_close(seen, got[:, :4 + i], name=N_("tokens given to the model at step {step}").format(step=i + 1),
                     hint=N_("call the model on the whole sequence so far: the prompt and every token generated "
                             "before this step"), check_dtype=False)
    assert_true(len(sampler.calls) == new, N_("your generate called sample_next_token {calls} times for {new} new "
                                              "tokens; expected once per step.").format(
                                                  calls=len(sampler.calls), new=new), CALLS_HINT)
    for i, (logits, temperature, top_k, top_p) in enumerate(sampler.calls):
        assert_close(logits, model.logits(got[:, :4 + i])[:, -1],
                     name=N_("logits given to sample_next_token at step {step}").format(step=i + 1), hint=LAST_HINT)
        assert_true((temperature, top_k, top_p) == (cfg.get("temperature", 1.0), cfg.get("top_k"), cfg.get("top_p")),
                    N_("your generate did not pass temperature, top_k and top_p on to sample_next_token."), GEN_HINT)


@pytest.mark.task("3.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "eos")
def test_generate_eos_sticky_and_early_stop(student, reference):
    """3.4 generate: a row that produced eos keeps producing it; stop once every row has produced it"""
    vocab, eos = 6, 5
    prompt = torch.tensor([[0, 0], [1, 2], [3, 4]])        # greedy successor: eos after 5, 3 and 1 steps
    got = _generate(student, reference, SuccessorLM(vocab), prompt, 8, generator(64), temperature=0.0,
                    eos_token_id=eos)
    expected = torch.tensor([[0, 0, 1, 2, 3, 4, 5],
                             [1, 2, 3, 4, 5, 5, 5],
                             [3, 4, 5, 5, 5, 5, 5]])
    assert_close(got, expected, name=N_("generated tokens with eos_token_id"), hint=EOS_HINT)


@pytest.mark.task("3.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "eos")
def test_generate_eos_limits(student, reference):
    """3.4 generate: max_new_tokens still applies with eos, and an eos in the prompt does not count"""
    vocab, eos = 6, 5
    model = SuccessorLM(vocab)
    prompt = torch.tensor([[2, 5], [0, 3]])                # row 0 ends in eos: it has not produced it
    got = _generate(student, reference, model, prompt, 3, generator(65), temperature=0.0, eos_token_id=eos)
    assert_close(got, torch.tensor([[2, 5, 0, 1, 2], [0, 3, 4, 5, 5]]), name=N_("generated tokens (eos in the prompt)"),
                 hint=EOS_HINT)
    got = _generate(student, reference, model, prompt, 0, generator(65), temperature=0.0, eos_token_id=eos)
    assert_close(got, prompt, name=N_("generate with max_new_tokens=0"), hint=N_("0 steps return the prompt unchanged"))


@pytest.mark.task("3.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "eos", "sampling")
@pytest.mark.parametrize("seed", [70, 73, 74, 75])
def test_generate_eos_sampling_matches_reference(student, reference, seed):
    """3.4 generate with sampling and eos equals the reference (rows finish at different steps)"""
    vocab, eos = 8, 2
    prompt = randint((4, 3), seed, 3, vocab)
    # eos is favoured, so rows stop at random steps: with seeds 70, 73 and 74 every row has
    # produced eos after 8, 6 and 9 of the 16 steps; with 75 one row never does
    kwargs = dict(temperature=1.0, eos_token_id=eos)
    expected = reference.generate(ToyLM(vocab, seed + 1, scale=1.0, favour=eos), prompt, 16, generator(seed + 2),
                                  **kwargs)
    sampler = _Recorder(reference)
    with student.substitute({"sample_next_token": sampler}):
        got = student.generate(ToyLM(vocab, seed + 1, scale=1.0, favour=eos), prompt, 16, generator(seed + 2),
                               **kwargs)
    steps = expected.shape[1] - prompt.shape[1]
    assert_true(all(c[0].shape[0] == prompt.shape[0] for c in sampler.calls),
                N_("your generate called sample_next_token on only some rows of the batch."), CALLS_HINT)
    assert_close(got, expected, name=N_("generated tokens (the reference stops after {steps} steps)").format(
        steps=steps),
                 hint=EOS_HINT + "; " + CALLS_HINT)


@pytest.mark.task("3.4")
@pytest.mark.points(2)
@pytest.mark.tags("reproducibility", "generator")
@pytest.mark.parametrize("case", ["temperature 1", "top-p 0.8"])
def test_generate_uses_only_generator(student, reference, case):
    """3.4 generate: the same generator seed gives the same text whatever the global RNG, another seed other text"""
    cfg = GEN_CASES[case]
    vocab = 12
    prompt = randint((4, 2), 81, 0, vocab)
    results = []
    for global_seed, gen_seed in ((1, 82), (2, 82), (1, 83)):
        with student.global_seed(global_seed):
            results.append(_generate(student, reference, ToyLM(vocab, 84, scale=1.0), prompt, 10,
                                     generator(gen_seed), **cfg))
    assert_true(torch.equal(results[0], results[1]),
                N_("two calls with generators seeded the same gave different tokens under different states of the "
                   "global random generators."), RNG_HINT)
    assert_true(not torch.equal(results[0], results[2]), N_("generators with different seeds gave the same tokens."),
                RNG_HINT)
