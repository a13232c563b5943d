"""einsum: every supported form against numpy.einsum in value, its gradients by finite
differences (twice), and an error naming what is wrong for each kind of bad subscripts."""
import numpy as np
import pytest

import minigen as mg
from minigen.core.errors import ShapeError

# (subscripts, operand shapes): the forms one writes by hand
FORMS = [
    ('ij,jk->ik', [(3, 4), (4, 2)]),                    # matmul
    ('ij,jk', [(3, 4), (4, 2)]),                        # the same, implicit output
    ('bij,bjk->bik', [(2, 3, 4), (2, 4, 5)]),           # batched matmul
    ('...ij,...jk->...ik', [(2, 1, 3, 4), (5, 4, 2)]),  # batched, broadcast batch dims
    ('...ij,jk', [(2, 3, 4), (4, 2)]),                  # implicit output after the ellipsis
    ('i,j->ij', [(3,), (4,)]),                          # outer
    ('i,i->', [(4,), (4,)]),                            # dot
    ('ij,j->i', [(3, 4), (4,)]),                        # matrix-vector
    ('ii', [(3, 3)]),                                   # trace
    ('ii->i', [(3, 3)]),                                # diagonal
    ('bii->b', [(2, 3, 3)]),                            # batched trace
    ('iij->j', [(3, 3, 2)]),                            # trace along two axes of three
    ('ij->ji', [(3, 4)]),                               # transpose
    ('ij->', [(3, 4)]),                                 # sum
    ('ij->j', [(3, 4)]),                                # sum over rows
    ('i...->...', [(3, 2, 2)]),                         # ellipsis after a letter
    ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 2)]),         # a chain of three
    ('bhqd,bhkd->bhqk', [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
]
IDS = [f for f, _ in FORMS]


def operands(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize('spec, shapes', FORMS, ids=IDS)
def test_einsum_equals_numpys(spec, shapes):
    arrays = operands(shapes)
    got = mg.einsum(spec, *[mg.tensor(a) for a in arrays])
    np.testing.assert_allclose(got.numpy(), np.einsum(spec, *arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('spec, shapes', FORMS, ids=IDS)
def test_einsum_gradients_match_finite_differences_to_second_order(spec, shapes):
    xs = [mg.tensor(a, requires_grad=True) for a in operands(shapes, seed=1)]
    assert mg.gradcheck(lambda *t: mg.einsum(spec, *t), xs)
    assert mg.gradgradcheck(lambda *t: mg.einsum(spec, *t), xs)


def test_einsum_takes_a_list_of_operands_and_promotes_dtypes_as_pytorch():
    a, b = mg.ones(2, 3), mg.ones(3, dtype=mg.float64)
    y = mg.einsum('ij,j->i', [a, b])
    assert y.dtype == mg.float64 and y.tolist() == [3.0, 3.0]


def test_one_operand_used_twice_gets_both_gradients():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    mg.einsum('i,i->', x, x).backward()                 # Σ x² -> 2x
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_einsum_runs_on_every_backend(device):
    a = mg.ones(2, 3, requires_grad=True)
    y = mg.einsum('...j,...j->...', a, a)
    y.sum().backward()
    assert y.device == device and a.grad.tolist() == [[2.0] * 3] * 2


BAD = [
    ('ij,jk->ik', [(3, 4), (5, 2)], ShapeError, "letter 'j' .* has sizes 4 and 5"),
    ('ij,jk->ik', [(3, 4)], ValueError, '2 operand terms, but 1 operands'),
    ('ijk', [(3, 4)], ShapeError, "term 'ijk' .* names 3 dims, but its operand is \\(3, 4\\)"),
    ('ij->ii', [(3, 3)], ValueError, "not supported: the output repeats 'i'"),
    ('ij->k', [(3, 3)], ValueError, "the output of 'ij->k' has 'k', which no operand has"),
    ('i1->i', [(3, 3)], ValueError, 'not supported: subscripts are letters'),
    ('ij->i->j', [(3, 3)], ValueError, 'not supported'),
    ('i..j->i', [(3, 3)], ValueError, "stray '.'"),
    ('ij->i..', [(3, 3)], ValueError, "stray '.'"),
    ('ii->i', [(3, 4)], ShapeError, "letter 'i' .* has sizes 3 and 4"),
    ('...ij->...', [(3,)], ShapeError, "names 2 dims besides '...'"),
    ('...i,...i->...', [(2, 3), (4, 3)], ShapeError, 'sizes 2 and 4'),
]


@pytest.mark.parametrize('spec, shapes, error, words', BAD, ids=[b[0] for b in BAD])
def test_bad_subscripts_raise_naming_what_is_not_supported(spec, shapes, error, words):
    with pytest.raises(error, match=f'einsum: .*{words}'):
        mg.einsum(spec, *[mg.ones(*s) for s in shapes])


def test_subscripts_must_be_a_string_and_operands_given():
    with pytest.raises(TypeError, match='einsum: subscripts must be a str'):
        mg.einsum(mg.ones(2), mg.ones(2))
    with pytest.raises(ValueError, match='einsum: needs at least one operand'):
        mg.einsum('i')


def test_a_large_contraction_takes_the_planned_path_and_equals_matmul_in_value_and_gradient():
    rng = np.random.default_rng(2)
    a = mg.tensor(rng.standard_normal((2, 30, 40)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((2, 40, 50)), requires_grad=True)
    y = mg.einsum('bij,bjk->bik', a, b)
    assert y.creator.optimize                              # 2·30·40·50 letter combinations
    gy = mg.tensor(rng.standard_normal((2, 30, 50)))
    ga, gb = mg.grad(y, [a, b], grad_outputs=gy)
    ma, mb = mg.grad(a @ b, [a, b], grad_outputs=gy)
    np.testing.assert_allclose(y.numpy(), (a @ b).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ga.numpy(), ma.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), mb.numpy(), rtol=1e-12, atol=1e-12)
