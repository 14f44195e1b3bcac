"""Part 2: partial dependence and ICE (task 2.1); Part 4: LIME's surrogate (task 4.1)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a6_xai.strategies import PROPERTY, additive_game, data, mlp_game, np_rng, seeds
from autograder.suites.a6_xai.strategies import one_thread  # noqa: F401  (fixture)
from shared.compare import assert_close, assert_true
from shared.tolerances import NUMPY_FLOAT64
from shared.i18n import N_

pytestmark = [pytest.mark.usefixtures("one_thread")]

CENTERED_HINT = N_("centered ICE (c-ICE): with centered=True subtract each curve's own value at the first grid "
                   "point, ice[i, j] - ice[i, 0], so every centered curve starts at 0")
PD_HINT = N_("pd[j] is the mean over the rows of ice[:, j], computed from the ice you return")


@st.composite
def pd_case(draw):
    seed = draw(seeds)
    N, n, g = draw(st.integers(1, 8)), draw(st.integers(1, 5)), draw(st.integers(2, 7))
    feature = draw(st.integers(0, n - 1))
    return seed, N, n, g, feature


def _grid(g, seed):
    return np.sort(np_rng(seed).uniform(-2, 2, size=g))


# ---- 2.1 partial_dependence -------------------------------------------------------------
@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@settings(max_examples=8)
@given(case=pd_case(), centered=st.booleans())
def test_partial_dependence_match_reference(student, reference, case, centered):
    """2.1 partial_dependence returns the brute-force PD and ICE curves"""
    seed, N, n, g, feature = case
    game = mlp_game(n, seed)
    X, grid = data((N, n), seed + 1), _grid(g, seed + 2)
    X_copy = X.copy()
    expected = reference.partial_dependence(game.predict, X, feature, grid, centered=centered)
    got = student.partial_dependence(game.predict, X, feature, grid, centered=centered)
    assert_close(got, expected, name="(pd, ice)", tol=NUMPY_FLOAT64,
                 hint=N_("ice[i, j] = predict(X[i] with column `feature` set to grid[j]), ice of shape (N, g); ")
                 + (CENTERED_HINT if centered else PD_HINT))
    assert_true(np.array_equal(X, X_copy), N_("partial_dependence modified its input X."),
                N_("work on a copy of X when you overwrite the feature column"))


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=6)
@given(case=pd_case())
def test_partial_dependence_additive_closed_form(student, case):
    """2.1 partial_dependence of an additive model: ICE curves are g(grid) shifted per row"""
    seed, N, n, g, feature = case
    game, terms = additive_game(n, seed)
    X, grid = data((N, n), seed + 1), _grid(g, seed + 2)
    swept = np.repeat(X[:1], g, axis=0)
    swept[:, feature] = grid
    g_grid = terms(swept)[:, feature]                              # g_feature(grid)
    rest = terms(X).sum(axis=1) - terms(X)[:, feature]             # sum of the other terms, per row
    ice = g_grid[None, :] + rest[:, None]
    assert_close(student.partial_dependence(game.predict, X, feature, grid), (ice.mean(axis=0), ice),
                 name=N_("(pd, ice) of an additive model"), tol=NUMPY_FLOAT64,
                 hint=N_("set only column `feature` to each grid value and keep the row's other features; "
                         "ice has one row per data row and one column per grid value"))


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "centered")
@settings(max_examples=6)
@given(case=pd_case())
def test_partial_dependence_centered_ice(student, case):
    """2.1 partial_dependence(centered=True): c-ICE starts at 0 and is the ICE minus its first value"""
    seed, N, n, g, feature = case
    game, terms = additive_game(n, seed)
    X, grid = data((N, n), seed + 1), _grid(g, seed + 2)
    swept = np.repeat(X[:1], g, axis=0)
    swept[:, feature] = grid
    g_grid = terms(swept)[:, feature]
    # additive model: every centered curve is g(grid) - g(grid[0]), whatever the row
    c_ice = np.repeat((g_grid - g_grid[0])[None, :], N, axis=0)
    pd, ice = student.partial_dependence(game.predict, X, feature, grid, centered=True)
    assert_close(np.asarray(ice)[:, 0], np.zeros(N), name=N_("centered ICE at the first grid point"),
                 tol=PROPERTY, hint=CENTERED_HINT)
    assert_close((pd, ice), (c_ice.mean(axis=0), c_ice), name="(pd, centered ice)", tol=NUMPY_FLOAT64,
                 hint=CENTERED_HINT + N_("; pd is then the mean of the centered curves"))


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "properties")
@settings(max_examples=6)
@given(case=pd_case(), centered=st.booleans())
def test_partial_dependence_pd_is_mean_of_ice(student, case, centered):
    """2.1 partial_dependence: pd is the mean of the returned ICE curves"""
    seed, N, n, g, feature = case
    game = mlp_game(n, seed)
    X, grid = data((N, n), seed + 1), _grid(g, seed + 2)
    pd, ice = student.partial_dependence(game.predict, X, feature, grid, centered=centered)
    ice = np.asarray(ice)
    assert_true(ice.shape == (N, g), N_("your ice has shape {actual}; expected (N, g) = ({N}, {g}).").format(
                    actual=ice.shape, N=N, g=g),
                N_("one ICE curve (row) per data row, one column per grid value"))
    assert_close(pd, ice.mean(axis=0), name=N_("pd compared with the mean of your ice"), tol=PROPERTY,
                 hint=PD_HINT + (N_(" (with centered=True, the mean of the centered curves)") if centered else ""))


# ---- 4.1 lime_fit -------------------------------------------------------------------------
@st.composite
def lime_case(draw):
    seed = draw(seeds)
    n = draw(st.integers(1, 6))
    N = draw(st.integers(n + 3, 40))
    width = draw(st.floats(0.5, 3.0))
    return seed, N, n, width


def _neighborhood(seed, N, n):
    Z = data((N, n), seed)
    Z[0] = 0.0                                   # the instance itself, as LIME puts it first
    return Z, np.linalg.norm(Z - Z[0], axis=1)


@pytest.mark.task("4.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=8)
@given(case=lime_case())
def test_lime_fit_recovers_linear_model(student, case):
    """4.1 lime_fit recovers the coefficients of a linear model"""
    seed, N, n, width = case
    Z, d = _neighborhood(seed, N, n)
    rng = np_rng(seed + 1)
    w, c = rng.normal(size=n), float(rng.normal())
    intercept, coef, score = student.lime_fit(Z, Z @ w + c, d, width, alpha=1e-10)
    # alpha = 1e-10 biases the coefficients by ~1e-10 / (smallest weighted eigenvalue): 1e-6 is ample
    hint = N_("fit intercept + Z @ coef by weighted least squares with the weights pi, adding alpha * |coef|^2 "
              "(the intercept is not penalised); score is the weighted R^2")
    assert_close(coef, w, name=N_("surrogate coefficients"), tol=NUMPY_FLOAT64.scaled(1e3), hint=hint)
    assert_close(float(intercept), c, name=N_("surrogate intercept"), tol=NUMPY_FLOAT64.scaled(1e3), hint=hint)
    assert_close(float(score), 1.0, name=N_("surrogate R^2 score"), tol=NUMPY_FLOAT64.scaled(1e3), hint=hint)


@pytest.mark.task("4.1")
@pytest.mark.points(3)
@pytest.mark.tags("correctness")
@settings(max_examples=8)
@given(case=lime_case(), alpha=st.sampled_from([1.0, 0.1, 5.0]))
def test_lime_fit_match_reference(student, reference, case, alpha):
    """4.1 lime_fit matches LIME's weighted ridge surrogate on a nonlinear model"""
    seed, N, n, width = case
    Z, d = _neighborhood(seed, N, n)
    y = np.sin(Z @ np_rng(seed + 1).normal(size=n)) + 0.5 * Z[:, 0] ** 2
    expected = reference.lime_fit(Z, y, d, width, alpha=alpha)
    got = student.lime_fit(Z, y, d, width, alpha=alpha) if alpha != 1.0 else student.lime_fit(Z, y, d, width)
    assert_close(got, expected, name="(intercept, coef, score)", tol=NUMPY_FLOAT64,
                 hint=N_("weights come from LIME's kernel sqrt(exp(-d^2 / kernel_width^2)) (note the square "
                         "root); ridge penalty alpha on coef only; intercept and score as floats, coef a float64 "
                         "array"))


@pytest.mark.task("4.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "kernel")
def test_lime_fit_kernel_locality(student):
    """4.1 lime_fit: samples far from the instance barely count"""
    # near the instance y = 2 z, far away y = -5 z: the kernel weights decide which slope wins
    near = np.linspace(-0.2, 0.2, 11)[:, None]
    far = np.concatenate([np.linspace(-3.0, -2.0, 6), np.linspace(2.0, 3.0, 6)])[:, None]
    Z = np.concatenate([np.zeros((1, 1)), near, far])
    y = np.where(np.abs(Z[:, 0]) < 1, 2.0 * Z[:, 0], -5.0 * Z[:, 0])
    d = np.abs(Z[:, 0])
    width = 0.5
    pi = np.sqrt(np.exp(-d ** 2 / width ** 2))
    zbar, ybar = np.average(Z[:, 0], weights=pi), np.average(y, weights=pi)
    slope = np.sum(pi * (Z[:, 0] - zbar) * (y - ybar)) / (np.sum(pi * (Z[:, 0] - zbar) ** 2) + 1e-3)
    _, coef, _ = student.lime_fit(Z, y, d, width, alpha=1e-3)
    assert_close(np.asarray(coef), np.array([slope]), name=N_("local slope"), tol=NUMPY_FLOAT64,
                 hint=N_("each sample is weighted by the kernel sqrt(exp(-d^2 / kernel_width^2)), so distant "
                         "samples have almost no influence on the local surrogate"))
