"""The flags that set a run's config, shared by ``train`` and ``sweep``: the parser of each
value, the check that the kind has the setting, and the help text with the defaults."""
import argparse
import math

from ..core.errors import UsageError
from ..train import CONFIGS, KINDS
from ..train.config import CELLS


def positive(kind):
    """A flag's parser for a positive (and finite) int or float."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
        return value
    return parse


def seed_number(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number ≥ 0, got {text}")
    return value


def one_of(choices):
    def parse(text):
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    return parse


# The flags of `train` that set a config field, and the parser of each one's value (the others
# choose where and how to run). `sweep` takes the same flags, and parses its --set values so.
FLAG_TYPES = {'epochs': positive(int), 'steps': positive(int), 'lr': positive(float),
              'batch_size': positive(int), 'hidden': positive(int),
              'latent': positive(int), 'seed': seed_number, 'threads': positive(int),
              'eval_every': positive(int), 'cell': one_of(CELLS),
              'num_layers': positive(int)}


CONFIG_FLAGS = tuple(FLAG_TYPES)


def given_flags(args):
    """{config field: value} for every config flag the user gave, checked against the kind."""
    config, given = CONFIGS[args.model](), {}
    for name in CONFIG_FLAGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        check_has(config, args.model, name)
        given[name] = value
    return given


def check_has(config, kind, name):
    if not hasattr(config, name):
        raise UsageError(f"{kind} has no --{name.replace('_', '-')}"
                         + (f"; it trains for --{config.length_name}, not --{name}"
                            if name in ('epochs', 'steps') else ''))


def config_from_flags(args):
    """The config of a new run: the kind's defaults, with every flag the user gave."""
    config = CONFIGS[args.model]()
    for name, value in given_flags(args).items():
        setattr(config, name, value)
    if args.data:
        config.data = args.data
    return config


def default_text(name):
    """' (default: vae 100, 28×28 images 30; gan 300; ...)' for a config field: the
    dataclass's default, or for the image models the default by the images' size."""
    from ..train.config import BY_SIZE
    values = []
    for kind in KINDS:
        config = CONFIGS[kind]()
        if kind in BY_SIZE and name in BY_SIZE[kind]['small']:
            small, large = (BY_SIZE[kind][size][name] for size in ('small', 'large'))
            values.append(f"{kind} {small}" + (f" (28×28 images: {large})" if large != small
                                               else ''))
        elif hasattr(config, name):
            values.append(f"{kind} {getattr(config, name)}")
    if len({v.split(' ', 1)[1] for v in values}) == 1:        # the same for every kind
        return f" (default: {values[0].split(' ', 1)[1]})"
    return f" (default: {'; '.join(values)})"


def add_config_flags(parser, seed=True):
    """The flags that set a run's config (FLAG_TYPES), with --device and --data: `train`'s,
    and `sweep`'s for every run of a sweep (which takes --seeds, not --seed)."""
    def flag(name, help, **kw):
        parser.add_argument('--' + name.replace('_', '-'), dest=name,
                            help=help + default_text(name), **({'type': FLAG_TYPES[name]} | kw))
    flag('epochs', 'epochs (image models)')
    flag('steps', 'training steps (charrnn)')
    flag('lr', 'learning rate')
    flag('batch_size', 'examples per step')
    flag('hidden', 'hidden units')
    flag('cell', 'recurrent cell (charrnn): Elman rnn, lstm or gru', type=None, choices=CELLS)
    flag('num_layers', 'recurrent layers, stacked (charrnn)')
    flag('latent', 'latent size (vae, gan, wgan-gp)')
    if seed:
        flag('seed', 'random seed')
    flag('eval_every', 'epochs between Fréchet distances (gan, wgan-gp), steps between metrics '
         'lines and checkpoints (charrnn)')
    parser.add_argument('--threads', type=FLAG_TYPES['threads'],
                        help='BLAS threads (default: MINIGEN_NUM_THREADS, else 1: a second thread '
                        'speeds up only the larger products on an idle machine, and slows '
                        'training many times when another process is busy; a resumed run uses '
                        'its own)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    parser.add_argument('--data', help="digits (default), digits28 (the same upscaled to "
                        "28×28, a stand-in of MNIST's shape) or mnist:PATH for the image "
                        "models; a UTF-8 text file for charrnn (default: Python's own stdlib "
                        "sources)")
