"""``minigen train`` and ``minigen sample``."""
from ..core.errors import UsageError
from ..train import KINDS
from .flags import add_config_flags, config_from_flags, given_flags, positive, seed_number


def _train_command(args):
    from ..core import backend
    from ..train import continue_run, train
    from ..train.memory import tune_malloc
    tune_malloc()                       # glibc's malloc thresholds (MINIGEN_MALLOC=default: not)
    if args.device:
        backend.module_for_device(args.device)          # no GPU: say so now, not mid-run
    if args.resume:
        if args.out:
            raise UsageError("--out and --resume: a resumed run stays in its own folder")
        folder, (metrics, files) = continue_run(args.resume, args.model, given_flags(args),
                                                args.device, args.data, args.quiet)
    else:
        folder, (metrics, files) = train(config_from_flags(args), args.out, args.device,
                                         args.quiet)
    print(('' if args.quiet else '\n') + f"{args.model} finished. In {folder}/:")
    for name in ['metrics.jsonl', 'checkpoint.safetensors', 'summary.json'] + files:
        print(f"  {name}")
    _print_how_it_ran(folder)
    for key, value in metrics.items():
        if not isinstance(value, list) and not key.endswith('_draws'):
            shown = f"{value:.4g}" if isinstance(value, float) else f"{value}"
            draws = metrics.get(f'{key}_draws')         # test_nelbo: 20 draws, not 1 as shown
            print(f"  {key}: {shown}" + (f" ({draws} noise draws)" if draws else ''))
    return 0


def _print_how_it_ran(folder):
    """The BLAS threads and malloc setting the run used, from its summary.json."""
    import json
    import os
    with open(os.path.join(folder, 'summary.json')) as f:
        summary = json.load(f)
    print(f"  BLAS threads: {summary['config']['threads']}; malloc: {summary['malloc']}")


def _sample_command(args):
    """Draw from a trained model; train/sampling.py's ``sample`` checks the flags (UsageError)."""
    from ..train import sample
    sample(args.checkpoint, args.n, args.temperature, args.prime, args.out, args.device,
           args.seed)
    return 0


def add_train_parser(commands):
    train = commands.add_parser('train', help='train a generative model (vae, gan, wgan-gp, '
                                'charrnn) and write its samples, curves and checkpoint',
                                description='Train a model; every epoch writes metrics.jsonl '
                                'and an atomic checkpoint into the run folder.')
    train.add_argument('model', choices=KINDS)
    add_config_flags(train)
    train.add_argument('--out', help='the run folder (default runs/MODEL, never overwritten)')
    train.add_argument('--resume', metavar='DIR', help='continue the run in DIR where its '
                       'checkpoint left it (bit for bit); --epochs/--steps, --lr, --batch-size '
                       '--eval-every and --threads may change, the others may not')
    train.add_argument('--quiet', action='store_true',
                       help='print only the final summary, no progress')
    train.set_defaults(run=_train_command)


def add_sample_parser(commands):
    sample = commands.add_parser('sample', help='sample from a trained model')
    sample.add_argument('checkpoint', help='a checkpoint.safetensors, or a run folder')
    sample.add_argument('--n', type=positive(int), default=100,
                        help='images, or characters for charrnn (default 100)')
    # --temperature and --prime default to None, so an image model can tell "not given" from
    # "given" and refuse them; the char-RNN reads None as 1.0 and ''.
    sample.add_argument('--temperature', type=float, default=None,
                        help='charrnn only: a number above 0; lower is more predictable '
                        '(default 1.0)')
    sample.add_argument('--prime', default=None,
                        help="charrnn only: text the char-RNN reads first (default '')")
    sample.add_argument('--out', help='where to write the samples: a .png, .svg, .pdf or .jpg '
                        'for images (default: samples-N.png beside the checkpoint, then '
                        'samples-N-2.png, ...), any file for charrnn text')
    sample.add_argument('--seed', type=seed_number, help='random seed, for a repeatable draw')
    sample.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    sample.set_defaults(run=_sample_command)
