"""The public API, as a snapshot: a name added to or removed from ``minigen.__all__``,
``minigen.nn.__all__``, ``minigen.optim.__all__`` or ``minigen.functional.__all__`` fails here
until the snapshot is updated too, so that every change to what users get is deliberate."""
import minigen as mg
from minigen import functional as F
from minigen import nn, optim

MINIGEN = '''
AnomalyError BackendError CheckpointError Function GradcheckError GraphError
NonFiniteError NotAnalyticWarning ShapeError Tensor abs add amax amin arange argmax argmin astype backend
broadcast_to cat check_op chunk clamp clone concatenate cos data detect_anomaly div elu
embedding enable_grad exp expand expm1 flatten float32 float64 full functional get_rng_state grad
gradcheck gradcheck_sweep gradgradcheck int64 io is_grad_enabled leaky_relu load localize
log log1p log_softmax logsumexp manual_seed matmul max maximum mean min minimum models mul
neg nn no_grad one_hot ones ones_like optim permute pow promote_types rand randn relu
reshape result_type save set_rng_state sigmoid sign sin softmax softplus split sqrt squeeze stack std sub
sum swapaxes tanh taylor_test tensor to_device to_dot trace transpose unsqueeze var viz
where zeros zeros_like
cumsum einsum gather gelu lerp masked_fill norm repeat scatter scatter_add sort topk
randn_like rand_like randint normal multinomial from_numpy as_tensor double long int32 bool_
device cuda set_grad_enabled inference_mode equal allclose
distributions
from_dlpack
'''.split()

NN = '''
Dropout ELU Embedding IncompatibleKeys LeakyReLU Linear Module ModuleList Parameter RNN ReLU
Sequential Sigmoid Softplus StateDictError Tanh functional_call init
Flatten GELU Identity LayerNorm ModuleDict
utils
MSELoss BCEWithLogitsLoss BCELoss CrossEntropyLoss NLLLoss KLDivLoss
LSTM GRU
'''.split()

OPTIM = '''
Adam AdamW Optimizer SGD clip_grad_norm_ clip_grad_value_
Adagrad RMSprop lr_scheduler
'''.split()

FUNCTIONAL = '''
bce_with_logits bce_with_logits_composed cross_entropy cross_entropy_composed
discriminator_loss dropout elu gaussian_kl gaussian_kl_composed generator_loss leaky_relu
linear linear_composed log_softmax mse_loss mse_loss_composed relu reparameterize
reparameterize_composed rnn rnn_composed sigmoid softmax softplus tanh
embedding gelu layer_norm layer_norm_composed one_hot
binary_cross_entropy binary_cross_entropy_composed binary_cross_entropy_with_logits kl_div
nll_loss
lstm lstm_composed gru gru_composed
'''.split()

# The chapters a reader may open as modules, beside the public names (the application's
# packages appear once something imports them: the command line, the trainer, the bench).

CHAPTERS = {'core', 'ops', 'check', 'functional', 'nn', 'optim', 'data', 'io', 'models', 'viz',
            'backend', 'train', 'bench', 'cli', 'distributions'}


def test_the_public_names_are_the_snapshot():
    assert sorted(mg.__all__) == sorted(MINIGEN)
    assert sorted(nn.__all__) == sorted(NN)
    assert sorted(optim.__all__) == sorted(OPTIM)
    assert sorted(F.__all__) == sorted(FUNCTIONAL)


def test_every_public_name_exists_once():
    for module in (mg, nn, optim, F):
        assert len(set(module.__all__)) == len(module.__all__), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f'{module.__name__}.{name}'


def test_nothing_internal_is_reachable_from_mg():
    visible = {n for n in dir(mg) if not n.startswith('_')}
    # PyTorch's dtype names that are Python builtins: attributes, kept out of __all__
    assert visible - set(mg.__all__) <= CHAPTERS | {'float', 'int', 'bool'}
    assert mg.as_tensor is mg.core.creation.as_tensor       # PyTorch's, not ops' helper
    for internal in ('shape', 'reduce', 'elementwise', 'graph_namespace', 'sum_to',
                     'describe', 'autograd', 'tensor_module', 'getitem', 'add_at'):
        assert internal not in visible, internal


def test_star_import_gives_exactly_the_public_names():
    namespace = {}
    exec('from minigen import *', namespace)
    assert {n for n in namespace if n != '__builtins__'} == set(mg.__all__)
