"""PyTorch's type promotion, swept over every pair of operands and every op that combines them.

The expected dtypes come from ``reference_dtype`` below, written from PyTorch's documented rules
(https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc) and an explicit
table of ``torch.promote_types``, independently of ``minigen/ops/promotion.py``. PyTorch itself
is not needed. Operand kinds: a dimensioned tensor and a 0-d tensor of each of bool, int32,
int64, float32, float64, and the Python numbers True, 2 and 1.5: 13 kinds, 169 ordered pairs.
"""
import functools
import operator

import numpy as np
import pytest

import minigen as mg

DTYPES = ('bool', 'int32', 'int64', 'float32', 'float64')
CATEGORY = {'bool': 0, 'int32': 1, 'int64': 1, 'float32': 2, 'float64': 2}

# torch.promote_types for these dtypes, written out (symmetric): within a category the wider,
# across categories the higher category's dtype as it is (int64 with float32 is float32).
PROMOTE = {
    ('bool', 'bool'): 'bool', ('bool', 'int32'): 'int32', ('bool', 'int64'): 'int64',
    ('bool', 'float32'): 'float32', ('bool', 'float64'): 'float64',
    ('int32', 'int32'): 'int32', ('int32', 'int64'): 'int64', ('int32', 'float32'): 'float32',
    ('int32', 'float64'): 'float64',
    ('int64', 'int64'): 'int64', ('int64', 'float32'): 'float32', ('int64', 'float64'): 'float64',
    ('float32', 'float32'): 'float32', ('float32', 'float64'): 'float64',
    ('float64', 'float64'): 'float64',
}


def promote(a, b):
    return PROMOTE.get((a, b)) or PROMOTE[b, a]


# A Python number's dtype: "a floating point scalar operand has dtype torch.get_default_dtype()
# and an integral non-boolean scalar operand has dtype torch.int64".
NUMBER_DTYPE = {bool: 'bool', int: 'int64', float: 'float32'}


class Kind:
    """One kind of operand: 'tensor' (dimensioned), 'zero-dim' or 'number', and its dtype."""

    def __init__(self, priority, dtype, value=None):
        self.priority, self.dtype, self.value = priority, dtype, value

    def make(self, device):
        if self.priority == 'number':
            return self.value
        if self.priority == 'tensor':
            values = [True, False, True] if self.dtype == 'bool' else [1, 2, 3]
        else:
            values = True if self.dtype == 'bool' else 1.5 if 'float' in self.dtype else 2
        return mg.tensor(values, dtype=self.dtype, device=device)

    def __repr__(self):
        return f'{self.priority} {self.dtype}' + ('' if self.value is None else f' {self.value!r}')


KINDS = ([Kind('tensor', d) for d in DTYPES] + [Kind('zero-dim', d) for d in DTYPES]
         + [Kind('number', NUMBER_DTYPE[type(v)], v) for v in (True, 2, 1.5)])
PAIRS = [(x, y) for x in KINDS for y in KINDS]
TENSOR_PAIRS = [(x, y) for x, y in PAIRS if 'number' not in (x.priority, y.priority)
                or x.priority != y.priority]


def reference_dtype(x, y):
    """The documented rules, applied in order to the operands grouped by priority:

    1. no higher-category zero-dim operands: a dtype of sufficient size and category for all
       dimensioned operands;
    2. a zero-dim tensor operand of a higher category than the dimensioned ones: a dtype of
       sufficient size and category for all zero-dim operands of that category;
    3. a scalar operand of a higher category than the tensor operands: a dtype of sufficient
       size for all scalar operands of that category.
    """
    result = None
    for priority in ('tensor', 'zero-dim', 'number'):
        group = [k.dtype for k in (x, y) if k.priority == priority]
        if not group:
            continue
        top = max(CATEGORY[d] for d in group)
        wide = functools.reduce(promote, [d for d in group if CATEGORY[d] == top])
        if result is None or CATEGORY[wide] > CATEGORY[result]:
            result = wide
    return result


def test_the_reference_gives_the_documented_examples():
    # the examples of PyTorch's type promotion documentation
    t, z, n = (lambda d: Kind('tensor', d)), (lambda d: Kind('zero-dim', d)), Kind
    assert reference_dtype(n('number', 'int64', 5), n('number', 'int64', 5)) == 'int64'
    assert reference_dtype(t('int32'), n('number', 'int64', 5)) == 'int32'
    assert reference_dtype(t('int32'), z('int64')) == 'int32'
    assert reference_dtype(t('int64'), t('int32')) == 'int64'
    assert reference_dtype(t('bool'), t('int64')) == 'int64'
    assert reference_dtype(t('float32'), t('float64')) == 'float64'
    assert reference_dtype(t('bool'), t('int32')) == 'int32'
    assert reference_dtype(t('int64'), t('float32')) == 'float32'
    assert reference_dtype(t('int32'), n('number', 'float32', 5.5)) == 'float32'
    assert reference_dtype(t('bool'), z('int32')) == 'int32'
    assert reference_dtype(t('float32'), z('float64')) == 'float32'
    assert reference_dtype(z('float32'), z('float64')) == 'float64'


@pytest.mark.parametrize('x, y', PAIRS, ids=[f'{x}, {y}' for x, y in PAIRS])
def test_result_type_follows_the_documented_rules(x, y):
    got = mg.result_type(x.make('cpu'), y.make('cpu'))
    assert got == np.dtype(reference_dtype(x, y))


# ----------------------------------------------------------------------------- the sweep

def _host(value, dtype):
    """An operand's values as a numpy array of ``dtype``: what the op computes with."""
    if isinstance(value, mg.Tensor):
        value = value.numpy()
    return np.asarray(value).astype(dtype)


COND = [True, False, True]


def _arithmetic(op, function):
    """(minigen call, numpy reference, refusal) of an arithmetic op; operators when a Tensor
    is involved (so the reflected forms run too), the function on two numbers."""
    def call(x, y):
        either = isinstance(x, mg.Tensor) or isinstance(y, mg.Tensor)
        return op(x, y) if either else function(x, y)
    return call


def _refuse_sub(x, y, dtype):
    return x.dtype == 'bool' or y.dtype == 'bool'


def _refuse_pow(x, y, dtype):
    return dtype == 'bool'


def _refuse_float(x, y, dtype):
    return CATEGORY[dtype] == 2


# name: (minigen call, numpy reference on arrays of the dtype computed in, refused?, a rule
# for the result dtype: None, the dtype computed in; 'bool'; 'true division', integers divide
# to the default float32)
OPS = {
    'add': (_arithmetic(operator.add, mg.add), np.add, None, None),
    'sub': (_arithmetic(operator.sub, mg.sub), np.subtract, _refuse_sub, None),
    'mul': (_arithmetic(operator.mul, mg.mul), np.multiply, None, None),
    'div': (_arithmetic(operator.truediv, mg.div), np.true_divide, None, 'true division'),
    'pow': (_arithmetic(operator.pow, mg.pow), np.power, _refuse_pow, None),
    'maximum': (mg.maximum, np.maximum, None, None),
    'minimum': (mg.minimum, np.minimum, None, None),
    'where': (lambda x, y: mg.where(mg.tensor(COND), x, y),
              lambda a, b: np.where(COND, a, b), None, None),
    'eq': (operator.eq, np.equal, None, 'bool'),
    'ne': (operator.ne, np.not_equal, None, 'bool'),
    'lt': (operator.lt, np.less, None, 'bool'),
    'le': (operator.le, np.less_equal, None, 'bool'),
    'gt': (operator.gt, np.greater, None, 'bool'),
    'ge': (operator.ge, np.greater_equal, None, 'bool'),
    'and': (operator.and_, np.bitwise_and, _refuse_float, None),
    'or': (operator.or_, np.bitwise_or, _refuse_float, None),
    'xor': (operator.xor, np.bitwise_xor, _refuse_float, None),
}
NEED_A_TENSOR = {'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor'}


def _check_pair(name, x_kind, y_kind, device):
    """None if the op gives the documented dtype and values (or refuses as PyTorch does),
    else a line saying what went wrong."""
    call, reference, refused, rule = OPS[name]
    x, y = x_kind.make(device), y_kind.make(device)
    computed = reference_dtype(x_kind, y_kind)           # the dtype the op computes in
    if refused is not None and refused(x_kind, y_kind, computed):
        try:
            call(x, y)
        except TypeError as exc:
            return None if str(exc).startswith(OPS_NAMES.get(name, name)) else f'message: {exc}'
        return 'not refused'
    with np.errstate(all='ignore'):                      # 1 / False is inf, as in PyTorch
        try:
            result = call(x, y)
        except Exception as exc:                         # noqa: BLE001: reported below
            return f'{type(exc).__name__}: {exc}'
        working = 'float32' if rule == 'true division' and CATEGORY[computed] < 2 else computed
        expected = reference(_host(x, working), _host(y, working))
    want = 'bool' if rule == 'bool' else working
    if not isinstance(result, mg.Tensor) or result.dtype != np.dtype(want):
        return f'dtype {getattr(result, "dtype", type(result).__name__)}, expected {want}'
    if result.creator is not None or result.requires_grad:
        return 'result is in a graph'
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, err_msg=name)
    return None


OPS_NAMES = {'and': 'and (&)', 'or': 'or (|)', 'xor': 'xor (^)'}


@pytest.mark.parametrize('name', list(OPS))
def test_every_pair_of_operands_gets_the_documented_dtype(name, device):
    pairs = TENSOR_PAIRS if name in NEED_A_TENSOR else PAIRS
    failures = []
    for x, y in pairs:
        problem = _check_pair(name, x, y, device)
        if problem:
            failures.append(f'{name}({x}, {y}): {problem}')
    assert not failures, f'{len(failures)} of {len(pairs)} pairs:\n' + '\n'.join(failures)


DIMENSIONED = [k for k in KINDS if k.priority == 'tensor']
ZERO_DIM = [k for k in KINDS if k.priority == 'zero-dim']


def test_cat_and_stack_meet_in_the_promoted_dtype(device):
    failures = []
    for join, kinds in ((mg.cat, DIMENSIONED), (mg.stack, DIMENSIONED), (mg.stack, ZERO_DIM)):
        for x_kind in kinds:
            for y_kind in kinds:
                x, y = x_kind.make(device), y_kind.make(device)
                want = promote(x_kind.dtype, y_kind.dtype)   # all operands of one priority
                result = join([x, y])
                expected = (np.concatenate if join is mg.cat else np.stack)(
                    [_host(x, want), _host(y, want)])
                if result.dtype != np.dtype(want):
                    failures.append(f'{join.__name__}({x_kind}, {y_kind}): {result.dtype}, '
                                    f'expected {want}')
                np.testing.assert_array_equal(result.numpy(), expected)
    assert not failures, '\n'.join(failures)


# ----------------------------------------------------------------------------- the reproducers

def test_bool_tensor_plus_an_int_counts():
    y = mg.tensor([True, False]) + 2
    assert y.dtype == mg.int64 and y.tolist() == [3, 2]


def test_a_mask_times_a_number_is_an_integer_tensor():
    x = mg.tensor([-1.0, 2.0, 3.0])
    assert ((x > 0) * 3).tolist() == [0, 3, 3]
    np.testing.assert_array_equal((x * ((x > 0) * 3)).numpy(), [0.0, 6.0, 9.0])


def test_subtraction_with_a_bool_is_refused_as_in_pytorch():
    mask = mg.tensor([True, False])
    with pytest.raises(TypeError, match=r'^sub: subtraction with a bool operand .*~mask'):
        2 - mask
    with pytest.raises(TypeError, match=r'^sub: subtracting two bools .*a \^ b'):
        mask - mask
    with pytest.raises(TypeError, match=r'^neg: negating a bool tensor'):
        -mask
    assert (1 - mask.long()).tolist() == [0, 1]


def test_cat_of_int64_and_float32_is_float32():
    y = mg.cat([mg.tensor([1, 2]), mg.tensor([0.5])])
    assert y.dtype == mg.float32 and y.tolist() == [1.0, 2.0, 0.5]


def test_int64_to_a_float_power_is_float32():
    y = mg.tensor([4, 9]) ** 2.5
    assert y.dtype == mg.float32
    np.testing.assert_allclose(y.numpy(), [32.0, 243.0])
    assert (mg.tensor([2, 3]) ** 2).dtype == mg.int64
    assert (2 ** mg.tensor([1, 2])).tolist() == [2, 4]
    assert (2.0 ** mg.tensor([1, 2])).dtype == mg.float32


def test_int32_tensor_with_a_0d_int64_stays_int32():
    i32 = mg.tensor([1, 2], dtype='int32')
    assert (i32 + mg.tensor(3)).dtype == np.int32
    assert (i32 * 3).dtype == np.int32
    assert (i32 + mg.tensor([3])).dtype == mg.int64         # a dimensioned one widens


def test_integers_to_negative_integer_powers_are_refused():
    # PyTorch refuses int tensor ** negative int; NumPy refuses negative integer exponents
    # in arrays too, so minigen refuses both forms rather than guess
    with pytest.raises(ValueError, match=r'^pow: integers to negative integer powers'):
        mg.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match=r'^pow: integers to negative integer powers'):
        mg.tensor([2, 3]) ** mg.tensor([1, -1])
    np.testing.assert_allclose((mg.tensor([2, 4]).float() ** -1).numpy(), [0.5, 0.25])
    with pytest.raises(TypeError, match=r'^pow: bool \*\* bool'):
        mg.tensor([True]) ** True


def test_comparisons_promote_before_comparing():
    ints = mg.tensor([1, 2, 3])
    assert (ints < 2.5).tolist() == [True, True, False]      # never 2.5 -> 2
    assert (ints == 2.0).tolist() == [False, True, False]
    assert (2.5 > ints).tolist() == [True, True, False]      # reflected
    x32 = mg.tensor([0.1])
    assert (x32 == 0.1).tolist() == [True]                   # 0.1 rounded to float32 first
    assert (x32 == mg.tensor(0.1, dtype=mg.float64)).tolist() == [True]
    assert (mg.tensor(1.0) < 2).ndim == 0 and (mg.tensor(1.0) < 2).item() is True
    assert (mg.ones(2) == None) is False                     # noqa: E711, as in PyTorch


def test_where_with_numbers_takes_their_dtype():
    cond = mg.tensor([True, False])
    assert mg.where(cond, 1, 0).dtype == mg.int64
    assert mg.where(cond, 1, 0.5).dtype == mg.float32
    assert mg.where(cond, mg.tensor([1, 2], dtype='int32'), 0).dtype == np.int32


# ----------------------------------------------------------------------------- bool operators

def test_bool_operators_on_masks():
    m, m2 = mg.tensor([True, True, False, False]), mg.tensor([True, False, True, False])
    assert (~m).tolist() == [False, False, True, True]
    assert (m & m2).tolist() == [True, False, False, False]
    assert (m | m2).tolist() == [True, True, True, False]
    assert (m ^ m2).tolist() == [False, True, True, False]
    assert (True & m).tolist() == [True, True, False, False]
    assert (False | m).tolist() == [True, True, False, False]
    assert (m ^ True).tolist() == [False, False, True, True]
    assert all(r.dtype == mg.backend.bool_ for r in (~m, m & m2, True & m, m ^ True))
    assert (~mg.tensor(True)).ndim == 0


def test_bool_operators_are_bitwise_on_integers():
    a = mg.tensor([12, 10])
    assert (a & 6).tolist() == [4, 2] and (a | 1).tolist() == [13, 11]
    assert (a ^ 15).tolist() == [3, 5] and (~a).tolist() == [-13, -11]
    assert (mg.tensor([True, False]) & mg.tensor([3, 3], dtype='int32')).dtype == np.int32


def test_bool_operators_refuse_floats_naming_op_and_dtype():
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match=r'^invert \(~\): .*\(2,\) float32'):
        ~x
    with pytest.raises(TypeError, match=r'^and \(&\): .*\(2,\) float32'):
        x & mg.tensor([True, False])
    with pytest.raises(TypeError, match=r'^or \(\|\): .*Python float 1.5'):
        mg.tensor([1, 2]) | 1.5


def test_bool_operators_take_no_part_in_the_graph():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    mask = (x > 0) & (x < 2)
    assert mask.creator is None and not mask.requires_grad


# ----------------------------------------------------------------------------- matmul

@pytest.mark.parametrize('a_dtype, b_dtype', [('float32', 'float64'), ('int64', 'float32'),
                                              ('float64', 'int64')])
def test_matmul_does_not_promote_and_names_both_operands(a_dtype, b_dtype):
    a, b = mg.ones(2, 3, dtype=a_dtype), mg.ones(3, 4, dtype=b_dtype)
    with pytest.raises(TypeError, match=rf'^matmul: .*a: \(2, 3\) {a_dtype}, '
                                        rf'b: \(3, 4\) {b_dtype}'):
        a @ b


def test_matmul_of_one_dtype_still_works():
    assert (mg.ones(2, 3, dtype='int64') @ mg.ones(3, dtype='int64')).tolist() == [3, 3]


# ----------------------------------------------------------------------------- gradients

GRAD_OPS = {
    'add': operator.add, 'sub': operator.sub, 'mul': operator.mul, 'div': operator.truediv,
    'pow': operator.pow, 'maximum': mg.maximum, 'minimum': mg.minimum,
    'where': lambda a, b: mg.where(mg.tensor([True, False, True]), a, b),
}
FLOAT_PAIRS = [(da, sa, db, sb) for da, db in (('float32', 'float64'), ('float64', 'float32'))
               for sa in ((3,), ()) for sb in ((3,), ())]


@pytest.mark.parametrize('name', list(GRAD_OPS))
@pytest.mark.parametrize('da, sa, db, sb', FLOAT_PAIRS)
def test_mixed_float_gradients_come_back_in_each_inputs_dtype(name, da, sa, db, sb):
    op = GRAD_OPS[name]
    values_a, values_b = np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.0, 2.5])
    a = mg.tensor(values_a[:sa[0]] if sa else 1.5, dtype=da, requires_grad=True)
    b = mg.tensor(values_b[:sb[0]] if sb else 2.0, dtype=db, requires_grad=True)
    op(a, b).sum().backward()
    a64 = mg.tensor(a.numpy(), dtype='float64', requires_grad=True)
    b64 = mg.tensor(b.numpy(), dtype='float64', requires_grad=True)
    op(a64, b64).sum().backward()
    assert a.grad.dtype == np.dtype(da) and b.grad.dtype == np.dtype(db)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    np.testing.assert_allclose(a.grad.numpy(), a64.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), b64.grad.numpy(), rtol=1e-5)


def test_cat_of_two_float_dtypes_sends_each_gradient_back_in_its_dtype():
    a = mg.ones(2, dtype='float32', requires_grad=True)
    b = mg.ones(3, dtype='float64', requires_grad=True)
    y = mg.cat([a, b])
    assert y.dtype == mg.float64
    (y * mg.arange(5.0)).sum().backward()
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 3.0, 4.0])


def test_clamp_of_an_integer_tensor_with_a_float_bound_is_float32():
    assert mg.tensor([1, 2]).clamp(min=0.5).dtype == mg.float32
    assert mg.tensor([1, 2]).clamp(max=1.5).dtype == mg.float32
    assert mg.tensor([1, 2]).clamp(min=0).dtype == mg.int64
