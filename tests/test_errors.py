"""Every mistake a user can make with the public API, answered by a clear error that names the
function and the argument, with what was expected and what was given. Each case is a test, and
docs/errors.md lists them all with their messages (`python tests/test_errors.py` rewrites it;
a test checks it is current)."""
import pathlib
import re

import numpy as np
import pytest
import safetensors.numpy

import minigen as mg
import minigen.functional as F
from minigen import nn, optim
from minigen.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _state_of_another_model():
    nn.Linear(3, 2).load_state_dict(nn.Linear(4, 2).state_dict())


def _checkpoint_that_is_not_ours(tmp):
    safetensors.numpy.save_file({'a': np.ones(3)}, tmp / 'plain.safetensors')
    mg.load(tmp / 'plain.safetensors')


def _checkpoint_with_a_flipped_bit(tmp):
    mg.save({'w': np.ones(3)}, tmp / 'ckpt.safetensors')
    data = bytearray((tmp / 'ckpt.safetensors').read_bytes())
    data[-1] ^= 0x01
    (tmp / 'ckpt.safetensors').write_bytes(bytes(data))
    mg.load(tmp / 'ckpt.safetensors')


def _checkpoint_cut_short(tmp):
    mg.save({'w': np.ones(3)}, tmp / 'ckpt.safetensors')
    data = (tmp / 'ckpt.safetensors').read_bytes()
    (tmp / 'ckpt.safetensors').write_bytes(data[:len(data) // 2])
    mg.load(tmp / 'ckpt.safetensors')


def _saving_a_string_array(tmp):
    mg.save({'names': np.array(['a', 'b'])}, tmp / 'ckpt.safetensors')


def _backward_after_a_write_through_detach():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach()[0] = 100.0
    y.backward()


def _plus_equals_on_a_view_in_the_graph():
    v = (mg.ones(3, requires_grad=True) * 2)[0:2]
    v += 1


def _plus_equals_a_float_on_an_integer_tensor():
    i = mg.tensor([1, 2])
    i += 2.5


def _writing_into_an_expanded_view():
    e = mg.ones(1, 3).expand(2, 3)
    with mg.no_grad():
        e[0, 0] = 5.0


def _second_backward():
    y = (mg.ones(2, requires_grad=True) * 2).sum()
    y.backward()
    y.backward()


# (what the user did, the call, the exception type, a fragment of the message)
CASES = [
    ('matmul of shapes that do not fit', lambda t: mg.ones(64, 784) @ mg.ones(128, 10),
     mg.ShapeError, 'matmul: a @ b needs a.shape[-1] == b.shape[-2]'),
    ('adding shapes that do not broadcast', lambda t: mg.ones(3, 4) + mg.ones(5),
     mg.ShapeError, 'add: operands could not be broadcast'),
    ('an integer tensor that requires grad', lambda t: mg.tensor([1, 2], requires_grad=True),
     TypeError, 'only floating-point tensors can require gradients'),
    ('backward of a non-scalar without grad', lambda t: (mg.ones(2, 3, requires_grad=True) * 2)
     .backward(), mg.GraphError, 'the gradient can be implied only for a scalar output'),
    ('a second backward through a freed graph', lambda t: _second_backward(),
     mg.GraphError, 'trying to backward through the graph a second time'),
    ('mg.grad of an input the outputs do not use',
     lambda t: mg.grad((mg.ones(2, requires_grad=True) * 2).sum(),
                       [mg.ones(3, requires_grad=True)]),
     mg.GraphError, 'was not used to compute the outputs'),
    ('an unknown backend', lambda t: mg.backend.use('tpu'), mg.BackendError,
     "unknown backend 'tpu'"),
    ('an unknown device', lambda t: mg.zeros(2, device='tpu'), mg.BackendError,
     "unknown device 'tpu'"),
    ('an unknown dtype', lambda t: mg.tensor([1.0], dtype='float7'), TypeError,
     "unknown dtype 'float7'"),
    ('reshaping to the wrong number of elements', lambda t: mg.ones(2, 3).reshape(4, 2),
     mg.ShapeError, 'reshape: cannot reshape (2, 3) float32'),
    ('an axis out of range', lambda t: mg.ones(2, 3).sum(axis=2), mg.ShapeError,
     'sum: axis 2 is out of range for a tensor of 2 dims'),
    ('an index out of range', lambda t: mg.ones(3)[5], IndexError,
     'getitem: index 5 does not fit (3,) float32'),
    ('gradcheck of a function that returns no Tensor',
     lambda t: mg.gradcheck(lambda x: 1.0, [mg.ones(2, dtype=mg.float64, requires_grad=True)]),
     TypeError, 'must return a Tensor or a tuple of Tensors'),
    ('a user-defined op given an array', lambda t: _Square().apply(np.ones(3)), TypeError,
     '_square.apply takes Tensors; got a ndarray'),
    ('integer data into a float layer', lambda t: nn.Linear(3, 2)(mg.tensor([[1, 2, 3]])),
     TypeError, 'linear: inputs must share one float dtype; got x int64, W float32'),
    ('float64 data into a float32 layer', lambda t: nn.Linear(3, 2)(mg.ones(1, 3,
                                                                            dtype='float64')),
     TypeError, 'linear: inputs must share one float dtype; got x float64'),
    ('a layer given the wrong number of features', lambda t: nn.Linear(3, 2)(mg.ones(4, 5)),
     mg.ShapeError, 'linear: x W needs x.shape[-1] == W.shape[0]'),
    ('an RNN given a 2-D input', lambda t: nn.RNN(3, 4)(mg.ones(5, 3)), mg.ShapeError,
     'RNN: x must be (N, T, D)'),
    ('an LSTM given h0 without c0', lambda t: nn.LSTM(3, 4)(mg.ones(5, 2, 3), mg.zeros(1, 2, 4)),
     TypeError, 'LSTM: the initial state must be a pair (h0, c0) of Tensors; got a Tensor'),
    ('a GRU state of one layer for a stack of two',
     lambda t: nn.GRU(3, 4, num_layers=2)(mg.ones(5, 2, 3), mg.zeros(1, 2, 4)), mg.ShapeError,
     'GRU: h0 must be (num_layers, N, H) = (2, 2, 4)'),
    ('F.lstm given a W_hh without its four gates',
     lambda t: F.lstm(mg.ones(2, 5, 3), mg.zeros(2, 4), mg.zeros(2, 4), mg.ones(3, 16),
                      mg.ones(4, 4)), mg.ShapeError, 'lstm: W_hh must be (H, 4·H)'),
    ('NaN values into a loss', lambda t: F.mse_loss(mg.tensor([1.0, float('nan')]),
                                                     mg.zeros(2)),
     ValueError, 'mse_loss: input (2,) float32 holds 1 NaN and 0 infinite values'),
    ('an empty batch into a loss', lambda t: F.bce_with_logits(mg.ones(0, 4), mg.ones(0, 4)),
     ValueError, 'bce_with_logits: logits is empty'),
    ('class targets of the wrong shape', lambda t: F.cross_entropy(mg.ones(2, 3), [0, 1, 2]),
     mg.ShapeError, "cross_entropy: class targets must have the input's shape without dim 1"),
    ('a class target out of range', lambda t: F.cross_entropy(mg.ones(2, 3), [0, 3]),
     ValueError, 'cross_entropy: target class 3 is out of range for 3 classes'),
    ('a reduction passed where PyTorch puts weight',
     lambda t: F.cross_entropy(mg.ones(2, 3), [0, 1], 'sum'), TypeError,
     "cross_entropy: weight must be one weight per class (C,); got 'sum' (did you mean "),
    ('label smoothing outside [0, 1]',
     lambda t: F.cross_entropy(mg.ones(2, 3), [0, 1], label_smoothing=1.5), ValueError,
     'cross_entropy: label_smoothing must be in [0, 1]; got 1.5'),
    ('ignore_index with probability targets',
     lambda t: F.cross_entropy(mg.ones(2, 3), mg.ones(2, 3) / 3, ignore_index=0), ValueError,
     'cross_entropy: ignore_index (0) is not supported for probability targets'),
    ('logits into binary_cross_entropy',
     lambda t: F.binary_cross_entropy(mg.tensor([0.5, 2.0]), mg.ones(2)), ValueError,
     'binary_cross_entropy: input must hold probabilities in [0, 1]; (2,) float32 has 1 values '
     'outside, e.g. 2.0'),
    ('a pos_weight that does not broadcast',
     lambda t: F.bce_with_logits(mg.ones(2, 3), mg.ones(2, 3), pos_weight=[1.0, 2.0]),
     mg.ShapeError, "bce_with_logits: pos_weight must broadcast to the input's shape"),
    ('a normal distribution with a scale of 0',
     lambda t: mg.distributions.Normal(0.0, mg.tensor([1.0, 0.0])), ValueError,
     'Normal: scale must be positive; (2,) float32 has 1 values that are not, e.g. 0.0'),
    ('a Bernoulli given both probs and logits',
     lambda t: mg.distributions.Bernoulli(probs=0.5, logits=0.0), ValueError,
     'Bernoulli: give exactly one of probs or logits; got both'),
    ('a KL divergence of an unregistered pair',
     lambda t: mg.distributions.kl_divergence(mg.distributions.Bernoulli(logits=0.0),
                                              mg.distributions.Normal(0.0, 1.0)),
     NotImplementedError, 'kl_divergence: no formula for KL(Bernoulli ‖ Normal)'),
    ('soft targets of another shape', lambda t: F.bce_with_logits(mg.ones(3), mg.ones(4)),
     mg.ShapeError, 'bce_with_logits: logits and targets must have one shape'),
    ('an unknown loss reduction', lambda t: F.mse_loss(mg.ones(2), mg.ones(2), 'avg'),
     ValueError, 'mse_loss: reduction must be one of mean, sum, none'),
    ('an optimizer with no parameters', lambda t: optim.SGD([], lr=0.1), ValueError,
     'SGD got an empty parameter list'),
    ('a parameter listed twice', lambda t: optim.Adam([_P, _P]), ValueError,
     'Adam: a parameter appears twice'),
    ('a learning rate that is not a positive number', lambda t: optim.SGD([_P], lr=0),
     ValueError, 'SGD: invalid lr=0: must be a positive number'),
    ('a state_dict from another model', lambda t: _state_of_another_model(),
     nn.StateDictError, 'W: expected (3, 2) float32, got (4, 2) float32'),
    ('a checkpoint that is not a minigen checkpoint', _checkpoint_that_is_not_ours,
     mg.CheckpointError, 'is not a minigen checkpoint'),
    ('a checkpoint with a flipped bit', _checkpoint_with_a_flipped_bit,
     mg.CheckpointError, 'do not match the digest stored in it'),
    ('a checkpoint cut short', _checkpoint_cut_short, mg.CheckpointError,
     'cannot read checkpoint'),
    ('a checkpoint that does not exist', lambda t: mg.load(t / 'missing.safetensors'),
     mg.CheckpointError, 'the file does not exist'),
    ('saving an array that is not bool, integer or float', _saving_a_string_array, TypeError,
     "save: cannot store the <U1 array at obj['names']"),
    ('changing a parameter in place while grad mode is on',
     lambda t: _P.__isub__(1.0), mg.GraphError,
     'a leaf tensor that requires grad cannot be changed in place'),
    ('a one-hot index out of range', lambda t: mg.one_hot([0, 3], 3), ValueError,
     'one_hot: index 3 is out of range for num_classes=3'),
    ('clamp without bounds', lambda t: mg.clamp(mg.ones(2)), ValueError,
     'clamp: give min, max or both'),
    ('a DataLoader batch size of 0', lambda t: mg.data.DataLoader(np.ones((4, 2)), 0),
     ValueError, 'DataLoader'),
    ('sampling a char-RNN at temperature 0',
     lambda t: mg.models.CharRNN(list('ab'), 4).sample(3, temperature=0), ValueError,
     'sample: temperature must be positive'),
    ('a VAE with an unknown likelihood', lambda t: mg.models.VAE(4, 3, 2, likelihood='beta'),
     ValueError, "VAE: likelihood must be 'bernoulli' or 'gaussian'"),
    ('a parameter replaced by a plain tensor', lambda t: setattr(nn.Linear(2, 2), 'W',
                                                                 mg.ones(2, 2)),
     TypeError, 'Linear.W is a parameter: assign a Parameter or None'),
    ('subtracting a bool mask from a number', lambda t: 2 - mg.tensor([True, False]),
     TypeError, 'sub: subtraction with a bool operand is not supported'),
    ('a matmul of two dtypes', lambda t: mg.ones(2, 3) @ mg.ones(3, 4, dtype='float64'),
     TypeError, 'matmul: a and b must have one dtype (matmul does not promote'),
    ('a bool operator on a float tensor', lambda t: ~mg.ones(2), TypeError,
     'invert (~): defined for bool and integer tensors only'),
    ('an integer tensor to a negative integer power', lambda t: mg.tensor([2, 3]) ** -1,
     ValueError, 'pow: integers to negative integer powers are not allowed'),
    ('backward after a saved tensor was written through detach()',
     lambda t: _backward_after_a_write_through_detach(), mg.GraphError,
     'mul saved input 0 (2,) float32 for backward, and it was changed in place since'),
    ('+= on a view of a tensor in the graph', lambda t: _plus_equals_on_a_view_in_the_graph(),
     mg.GraphError, 'add_ (+=): this tensor is a view (getitem) of another tensor in the graph'),
    ('+= of a float on an integer tensor', lambda t: _plus_equals_a_float_on_an_integer_tensor(),
     TypeError, 'add_ (+=): the result of int64 and float cannot be written into this int64'),
    ('writing into an expanded view', lambda t: _writing_into_an_expanded_view(), ValueError,
     'setitem: this tensor (2, 3) is an expanded view (broadcast_to/expand)'),
    ('a tuple (x, y) given to a DataLoader',
     lambda t: mg.data.DataLoader((np.ones((4, 2)), np.ones(4)), 2), mg.data.DataError,
     'DataLoader: got a tuple of 2 arrays ((4, 2), (4,)), which PyTorch reads as a dataset'),
    ('a TensorDataset of tensors with different numbers of rows',
     lambda t: mg.data.TensorDataset(np.ones((4, 2)), np.ones(3)), mg.data.DataError,
     'TensorDataset: the tensors must have one size in their first dimension'),
]


class _Square(mg.Function):
    def forward(self, xp, x):
        return x * x

    def backward(self, xp, gy, x, y):
        return 2 * x * gy


_P = mg.ones(2, requires_grad=True)


@pytest.mark.parametrize('what, call, kind, fragment', CASES, ids=[c[0] for c in CASES])
def test_each_mistake_gets_a_clear_error(what, call, kind, fragment, tmp_path):
    with pytest.raises(kind) as info:
        call(tmp_path)
    assert fragment in str(info.value), str(info.value)


# ------------------------------------------------------------------ the command line and checkpoints

def _runs(tmp):
    """Tiny runs to resume and sample (made once per folder), a broken checkpoint, a file."""
    import contextlib
    import io as text_io
    if not (tmp / 'runs' / 'vae').exists():
        (tmp / 'text.txt').write_text('abcd efgh ' * 30)
        (tmp / 'notes.txt').write_text('mine')
        with contextlib.redirect_stdout(text_io.StringIO()):
            main(['train', 'vae', '--epochs', '2', '--hidden', '8', '--latent', '2',
                  '--batch-size', '512', '--out', str(tmp / 'runs' / 'vae'), '--quiet'])
            main(['train', 'charrnn', '--steps', '2', '--hidden', '8', '--batch-size', '2',
                  '--data', str(tmp / 'text.txt'), '--out', str(tmp / 'runs' / 'charrnn'),
                  '--quiet'])
        state = mg.load(tmp / 'runs' / 'vae' / 'checkpoint.safetensors')
        state.pop('rng')
        state['config']['hidden'] = '8'
        state['extra'] = 1
        (tmp / 'runs' / 'broken').mkdir()
        mg.save(state, tmp / 'runs' / 'broken' / 'checkpoint.safetensors')
    return {'{vae}': 'runs/vae', '{charrnn}': 'runs/charrnn', '{broken}': 'runs/broken',
            '{file}': 'notes.txt', '{text}': 'text.txt', '{tmp}': '.'}


# (what the user did, the command after `minigen`, the exit status, a fragment of stderr)
CLI_CASES = [
    ('a learning rate that is not a number', 'train vae --lr nan', 2,
     'must be a positive finite number'),
    ('a learning rate that overflows', 'train vae --lr 1e400', 2,
     'must be a positive finite number'),
    ('a negative seed', 'train vae --seed -1', 2, 'a seed is a whole number ≥ 0'),
    ('zero epochs', 'train vae --epochs 0', 2, 'must be a positive finite number'),
    ('a flag of another model', 'train vae --steps 10', 2, 'vae has no --steps'),
    ('an unknown flag', 'train vae --colour red', 2, 'unrecognized arguments'),
    ('--out naming a file', 'train vae --out {file}', 2, 'is a file, not a folder'),
    ('--out inside a file', 'train vae --out {file}/run', 2, 'cannot make the folder'),
    ('--out naming an earlier run', 'train vae --out {vae}', 2, 'already holds files'),
    ('a batch larger than the data (GAN)', 'train gan --batch-size 5000 --out {tmp}/g', 2,
     'an epoch would have no training step'),
    ('fewer batches than critic steps', 'train wgan-gp --batch-size 400 --out {tmp}/w', 2,
     'the generator would never train'),
    ('MNIST from a folder without its files', 'train vae --data mnist:{tmp}/none', 2,
     'mnist'),
    ('a text file that is not there', 'train charrnn --data {tmp}/none.txt', 2, 'none.txt'),
    ('a learning rate that makes the loss NaN',
     'train vae --lr 1e3 --hidden 8 --out {tmp}/diverges', 1,
     'training stopped: the loss was not finite at epoch 1'),
    ('--resume of a folder without a checkpoint', 'train vae --resume {tmp}/none', 2,
     'no checkpoint at'),
    ('--resume of another model\'s run', 'train gan --resume {vae}', 2,
     'holds a vae run, not a gan one'),
    ('--resume changing the architecture', 'train vae --resume {vae} --hidden 3', 2,
     '--hidden cannot change when a run is resumed'),
    ('--resume to fewer epochs than done', 'train vae --resume {vae} --epochs 1', 2,
     'the run has already trained 2 epochs'),
    ('--resume with --out', 'train vae --resume {vae} --out {tmp}/x', 2,
     '--out and --resume'),
    ('--resume of a checkpoint wrong inside', 'train vae --resume {broken}', 2,
     '(3 problems)'),
    ('sample of a checkpoint wrong inside', 'sample {broken}', 2, '(3 problems)'),
    ('sample at temperature NaN', 'sample {charrnn} --temperature nan', 2,
     '--temperature must be a finite number above 0'),
    ('sample of an image model with --temperature', 'sample {vae} --temperature 0.5', 2,
     '--temperature is for charrnn checkpoints'),
    ('sample of an image model with --prime', 'sample {vae} --prime the', 2,
     '--prime is for charrnn checkpoints'),
    ('sample of an image model to a text file', 'sample {vae} --out {tmp}/x.txt', 2,
     'a vae model\'s samples are a picture'),
    ('sample into a folder that does not exist', 'sample {vae} --out {tmp}/none/x.png', 2,
     'does not exist'),
    ('sample of a prime with unknown characters', 'sample {charrnn} --prime XYZ', 2,
     'characters the model does not know'),
    ('sweep seeds that run backwards', 'sweep vae --seeds 4-0 --out {tmp}/s', 2,
     'the range 4-0 runs backwards'),
    ('sweep of a setting that is not one', 'sweep vae --set width=1,2 --out {tmp}/s', 2,
     "'width' is not a setting of a run"),
    ('sweep of a value given twice', 'sweep vae --set lr=1e-3,0.001 --out {tmp}/s', 2,
     'a value is given twice'),
    ('sweep of seeds with --set', 'sweep vae --set seed=0,1 --out {tmp}/s', 2,
     'seeds are swept with --seeds'),
    ('sweep of a setting of another model', 'sweep vae --set cell=lstm,gru --out {tmp}/s', 2,
     'vae has no --cell'),
    ('sweep of a setting also given as a flag',
     'sweep vae --set hidden=8,16 --hidden 8 --out {tmp}/s', 2, 'given as a flag and swept'),
    ('sweep with --workers and --scheduler',
     'sweep vae --workers 2 --scheduler tcp://127.0.0.1:9 --out {tmp}/s', 2,
     '--workers is for the pool'),
    ('sweep into a run\'s folder', 'sweep vae --out {vae}', 2,
     'holds files but no sweep.json'),
    ('sweep into a folder inside a file', 'sweep vae --out {file}/s', 2,
     'cannot make the folder'),
]


def run_cli(tmp, command):
    """(exit status, stderr as the user sees it, paths shown by their names in the table)."""
    import contextlib
    import io as text_io
    names = _runs(tmp)
    argv = command.split()
    for placeholder, name in names.items():
        argv = [a.replace(placeholder, str(tmp / name) if name != '.' else str(tmp))
                for a in argv]
    err, out = text_io.StringIO(), text_io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    shown = err.getvalue()
    for placeholder, name in sorted(names.items(), key=lambda kv: kv[1] == '.'):
        shown = shown.replace(str(tmp / name) if name != '.' else str(tmp), name)
    return status, shown


@pytest.mark.slow
@pytest.mark.parametrize('what, command, status, fragment', CLI_CASES,
                         ids=[c[0] for c in CLI_CASES])
def test_each_command_line_mistake_is_one_line(what, command, status, fragment, tmp_path_factory):
    tmp = tmp_path_factory.getbasetemp() / 'cli-errors'
    tmp.mkdir(exist_ok=True)
    got, err = run_cli(tmp, command)
    assert got == status and err.count('\n') == 1 and fragment in err, (got, err)
    assert 'Traceback' not in err


def render(tmp):
    """docs/errors.md: every case with the message the user sees."""
    lines = ['# Errors', '',
             'Every mistake below gets an error that names the function and the argument, '
             'with what was expected and what was given. Each is a test in '
             '`tests/test_errors.py`, which also checks that this page is current '
             '(`python tests/test_errors.py` rewrites it).', '',
             '## The library', '',
             '| what the user did | error |', '|---|---|']
    for what, call, kind, _ in CASES:
        try:
            call(tmp)
        except kind as exc:
            message = re.sub(r'/tmp\S*?(?=[\'" ]|$)', '…', str(exc).replace('\n', ' '))
            message = message.replace('|', '\\|')
            lines.append(f'| {what} | `{kind.__name__}`: {message} |')
    lines += ['', '## The command line and checkpoints', '',
              'A mistake at the command line is one line on stderr and exit status 2; a run '
              'whose loss stops being finite is one line and exit status 1, with its last '
              'good checkpoint kept. Below, `runs/vae` and `runs/charrnn` are tiny runs, and '
              '`runs/broken` a VAE checkpoint with three things wrong inside.', '',
              '| what the user did | command | exit | stderr |', '|---|---|---|---|']
    for what, command, _, _ in CLI_CASES:
        status, err = run_cli(tmp, command)
        shown = command
        for placeholder, name in _runs(tmp).items():
            shown = shown.replace(placeholder, name)
        err = err.strip().replace('|', '\\|')
        lines.append(f'| {what} | `minigen {shown}` | {status} | {err} |')
    return '\n'.join(lines) + '\n'


def test_the_errors_page_is_current(tmp_path):
    assert (ROOT / 'docs' / 'errors.md').read_text() == render(tmp_path)


if __name__ == '__main__':
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        (ROOT / 'docs' / 'errors.md').write_text(render(pathlib.Path(folder)))
    print('wrote docs/errors.md')
