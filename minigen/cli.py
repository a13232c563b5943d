"""The command line: ``minigen train | sample | graph | explain | bench | gradcheck`` (also
``python -m minigen ...``). Each command is a function ``_NAME_command(args)``; ``main`` turns a
user's mistake into one line on stderr and exit status 2."""
import argparse
import math
import shlex
import sys
import time
import warnings

from .core.errors import BackendError, DataError, TrainingStopped, UsageError
from .train import CONFIGS, KINDS
from .train.config import CELLS

USER_ERRORS = (UsageError, DataError, BackendError)


def _gradcheck_command(args):
    """One row per registered op: the worst errors of its first and second derivatives."""
    from .check.registry import CASES
    from .models.gradcheck_cases import CASES as MODEL_CASES
    cases = [c for c in CASES + MODEL_CASES
             if not args.only or any(k in c.name for k in args.only)]
    if not cases:
        print(f"no registered op matches {' '.join(args.only)}", file=sys.stderr)
        return 2
    width = max(len(c.name) for c in cases)
    _print_gradcheck_header(width)
    failures, failed_ops, start = [], 0, time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # the registry's inputs are float64 already
        for case in cases:
            results = _check_case(case, args.seed)
            failures += [r.report for r in results if r is not None and not r.ok]
            failed_ops += _print_gradcheck_row(case.name, width, *results) == 'FAIL'
    elapsed = time.perf_counter() - start
    print(f"\n{len(cases) - failed_ops} passed, {failed_ops} failed "
          f"({len(cases)} ops; float64 central differences, eps=1e-6, atol=1e-5, rtol=1e-3; "
          f"{elapsed:.1f}s)")
    for report in failures:
        print('\n' + report)
    return 1 if failures else 0


def _check_case(case, seed):
    """The results of gradcheck and gradgradcheck (None where the case skips it) on a case."""
    from .check import check_gradients, check_second_gradients
    from .check.registry import inputs_for
    first = check_gradients(case.fn, inputs_for(case, seed=seed), name=case.name)
    second = check_second_gradients(case.fn, inputs_for(case, seed=seed),
                                    name=case.name) if case.gradgrad else None
    return first, second


def _print_gradcheck_header(width):
    print(f"{'':<{width}}  {'gradcheck':^21}  {'gradgradcheck':^21}")
    header = f"{'op':<{width}}  {'max abs err':>10} {'max rel err':>10}  " \
             f"{'max abs err':>10} {'max rel err':>10}  result"
    print(header)
    print('-' * len(header))


def _print_gradcheck_row(name, width, first, second):
    """Print one case's row and return its verdict, 'ok' or 'FAIL'."""
    second_cols = f"{second.max_abs_err:>10.1e} {second.max_rel_err:>10.1e}" \
        if second else f"{'n/a':>10} {'n/a':>10}"
    verdict = 'ok' if all(r.ok for r in (first, second) if r is not None) else 'FAIL'
    print(f"{name:<{width}}  {first.max_abs_err:>10.1e} {first.max_rel_err:>10.1e}"
          f"  {second_cols}  {verdict}")
    return verdict


def _positive(kind):
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


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number ≥ 0, got {text}")
    return value


def _one_of(choices):
    def parse(text):
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    return parse


# The flags of `train` that set a config field, and the parser of each one's value (the others
# choose where and how to run). `sweep` takes the same flags, and parses its --set values so.
FLAG_TYPES = {'epochs': _positive(int), 'steps': _positive(int), 'lr': _positive(float),
              'batch_size': _positive(int), 'hidden': _positive(int),
              'latent': _positive(int), 'seed': _seed, 'threads': _positive(int),
              'eval_every': _positive(int), 'cell': _one_of(CELLS),
              'num_layers': _positive(int)}
CONFIG_FLAGS = tuple(FLAG_TYPES)


def given_flags(args):
    """{config field: value} for every config flag the user gave, checked against the kind."""
    config, given = CONFIGS[args.model](), {}
    for name in CONFIG_FLAGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        _check_has(config, args.model, name)
        given[name] = value
    return given


def _check_has(config, kind, name):
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


def _train_command(args):
    from .core import backend
    from .train import continue_run, train
    from .train.memory import tune_malloc
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


def _seeds(text):
    from .train.sweep import parse_seeds
    try:
        return parse_seeds(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(': ', 1)[1]) from None


SETTABLE = tuple(n for n in CONFIG_FLAGS if n != 'seed') + ('data',)


def _axis(text):
    """--set NAME=V1,V2: (config field, [its values]), each value parsed as its flag's."""
    name, sep, values = text.partition('=')
    field = name.strip().replace('-', '_')
    if field == 'seed':
        raise argparse.ArgumentTypeError("seeds are swept with --seeds 0-4, not --set seed=")
    if not sep or not values.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=V1,V2,... (such as "
                                         f"lr=1e-3,3e-3)")
    if field not in SETTABLE:
        raise argparse.ArgumentTypeError(f"{name.strip()!r} is not a setting of a run; one of "
                                         + ', '.join(n.replace('_', '-') for n in SETTABLE))
    texts = [v.strip() for v in values.split(',')]
    if '' in texts:
        raise argparse.ArgumentTypeError(f"{text!r}: a value is empty")
    parse, parsed = FLAG_TYPES.get(field, str), []
    for value in texts:
        try:
            parsed.append(parse(value))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{name.strip()}={value}: {exc}") from None
    if len(set(parsed)) < len(parsed):
        raise argparse.ArgumentTypeError(f"{text!r}: a value is given twice")
    return field, parsed


def _check_axes(kind, axes, flags):
    """Each --set names a setting of ``kind``, once, and not also as a flag."""
    config, names = CONFIGS[kind](), [name for name, _ in axes]
    for name in names:
        _check_has(config, kind, name)
        flag = '--' + name.replace('_', '-')
        if name in flags:
            raise UsageError(f"{flag} is given as a flag and swept with --set: give it once")
        if names.count(name) > 1:
            raise UsageError(f"{flag} is given twice with --set: give it once")


def _sweep_command(args):
    """Run a sweep (train/sweep.py), then print and write its report (train/sweep_report.py)."""
    from .core import backend
    from .train import sweep as sweeps, sweep_report
    flags = given_flags(args) | ({'data': args.data} if args.data else {})
    _check_axes(args.model, args.set, flags)
    if args.scheduler and args.workers:
        raise UsageError("--workers is for the pool on this machine; a Dask cluster's "
                         "workers are its own")
    if args.device:
        backend.module_for_device(args.device)          # no GPU: say so now, not per run
    spec = sweeps.Sweep(args.model, args.seeds, args.set, flags, args.device)
    command = ' '.join(['minigen'] + [shlex.quote(a) for a in args.argv])
    client = sweeps.dask_client(args.scheduler) if args.scheduler else None
    try:
        sweeps.begin(spec, args.out, command)
        print(_sweep_plan(spec, args, client), flush=True)
        records = sweeps.run_sweep(spec, args.out, args.workers, client, _echo_run)
    finally:
        if client is not None:
            client.close()
    summary = sweep_report.summarize(spec, records, command)
    written = [sweep_report.write_json(summary, args.out),
               sweep_report.save_curves(summary, args.out)]
    print('\n' + sweep_report.table(summary))
    print('\nwrote ' + ', '.join(path for path in written if path))
    return 1 if any(s['failed'] for s in summary['settings']) else 0


def _sweep_plan(spec, args, client):
    """'vae: 12 runs (2 × 2 settings × 3 seeds) on 2 processes, into OUT/'."""
    from .train.sweep import default_workers
    runs = len(spec.settings()) * len(spec.seeds)
    grid = ' × '.join(str(len(values)) for _, values in spec.axes)
    workers = min(args.workers or default_workers(), runs)
    where = (f"on the Dask cluster at {args.scheduler}" if client is not None else
             'in this process' if workers == 1 else f"on {workers} processes")
    return (f"{args.model}: {_count(runs, 'run')} ({grid + ' settings × ' if grid else ''}"
            f"{_count(len(spec.seeds), 'seed')}) {where}, into {args.out}/")


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _echo_run(record, done, total):
    """One line per run as it ends: where it stands, and its measure or its error."""
    from .train.sweep_report import SHOWN, final_metrics
    name = (record['setting'] + ', ' if record['setting'] else '') + f"seed {record['seed']}"
    if record['status'] == 'failed':
        said = f"failed: {record['error']}"
    else:
        measure = SHOWN[record['kind']][0]
        value = final_metrics(record['summary']).get(measure)
        said = record['status'] + (f", {measure} {value:.5g}" if value is not None else '')
    print(f"[{done}/{total}] {name}: {said} ({record['seconds']:.1f} s)", flush=True)


def _print_how_it_ran(folder):
    """The BLAS threads and malloc setting the run used, from its summary.json."""
    import json
    import os
    with open(os.path.join(folder, 'summary.json')) as f:
        summary = json.load(f)
    print(f"  BLAS threads: {summary['config']['threads']}; malloc: {summary['malloc']}")


def _defaults(name):
    """' (default: vae 100, 28×28 images 30; gan 300; ...)' for a config field: the
    dataclass's default, or for the image models the default by the images' size."""
    from .train.config import BY_SIZE
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


def _graph_command(args):
    """Write the graph of a tiny model's loss: DOT text, or a PNG/SVG picture (Graphviz when
    installed, matplotlib otherwise), the data inputs named as in the model's code."""
    import os
    from . import viz
    loss, names = _tiny_loss(args.model)
    title = f'{args.model}: the graph of one loss'
    ext = os.path.splitext(args.out)[1].lower()
    if ext in ('', '.dot', '.gv'):
        with open(args.out, 'w') as f:
            f.write(viz.to_dot(loss, title, show_data=args.values, show_grad=args.grads,
                               names=names))
    elif ext in ('.png', '.svg'):
        try:
            viz.draw(loss, args.out, show_data=args.values, show_grad=args.grads, names=names,
                     title=title)
        except ImportError as exc:
            raise UsageError(f"{args.out} was not drawn: {exc}; --out {args.out[:-4]}.dot "
                             "writes the DOT text, which needs neither") from None
    else:
        raise UsageError(f"graph: --out must end in .dot, .png or .svg; got {args.out}")
    print(f'wrote {args.out}')
    return 0


def _tiny_loss(kind):
    """A tiny model's loss on one small batch, and {name: Tensor} for its leaves: the
    parameters by their names in the model, the data by the names the model's code uses."""
    from . import models
    from .core.creation import manual_seed, rand, randn, tensor
    manual_seed(0)
    if kind == 'vae':
        model = models.VAE(6, 5, 2)
        x, eps = rand(4, 6), randn(4, 2)
        loss, data = model.loss(x, eps).loss.mean(), dict(x=x, eps=eps)
    elif kind == 'gan':
        model = models.GAN(2, 5, 6)
        real, z = rand(4, 6), randn(4, 2)
        fake = model.generator(z).detach()      # the discriminator's step: a cut in the graph
        loss, data = model.discriminator_loss(real, fake=fake), dict(real=real, fake=fake)
    else:
        model = models.CharRNN(list('abcd'), 5)
        ids = tensor([[0, 1, 2, 3, 1], [2, 2, 0, 1, 3]])
        inputs, targets = ids[:, :-1], ids[:, 1:]
        loss, data = model.loss(inputs, targets), dict(inputs=inputs, targets=targets)
    return loss, dict(model.named_parameters(), **data)


def _explain_command(args):
    """Walk one training step of a small model: every forward op, every backward call in the
    order the walk runs them, and Adam's update of one parameter (train/explain.py)."""
    import os
    from .train import explain
    if args.cell is not None and args.model != 'charrnn':
        raise UsageError(f"--cell is for charrnn; {args.model} has no recurrent cell")
    if args.html:
        folder = os.path.dirname(os.path.abspath(args.html))
        if os.path.isdir(args.html) or not os.path.isdir(folder):
            raise UsageError(f"--html {args.html}: " + (
                'is a folder; give the name of the page to write' if os.path.isdir(args.html)
                else f'the folder {folder} does not exist'))
    walk = explain.walk_step(args.model, args.seed, args.cell or 'rnn', pictures=bool(args.html))
    print(explain.format_text(walk), end='')
    if args.html:
        explain.write_html(walk, args.html)
        print(f'\nwrote {args.html}')
    return 0


def _bench_command(args):
    """Run the speed suite (minigen/bench/suite.py) with the flags after `bench`."""
    from .bench import suite
    if args.device == 'cuda':
        from .core import backend
        backend.module_for_device('cuda')            # no GPU: say so before starting
    suite.main(args.rest)
    return 0


def _sample_command(args):
    """Draw from a trained model; train/sampling.py's ``sample`` checks the flags (UsageError)."""
    from .train import sample
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


def add_config_flags(parser, seed=True):
    """The flags that set a run's config (FLAG_TYPES), with --device and --data: `train`'s,
    and `sweep`'s for every run of a sweep (which takes --seeds, not --seed)."""
    def flag(name, help, **kw):
        parser.add_argument('--' + name.replace('_', '-'), dest=name, help=help + _defaults(name),
                            **({'type': FLAG_TYPES[name]} | kw))
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


def add_sweep_parser(commands):
    sweep = commands.add_parser(
        'sweep', help='train seeds × settings, each an ordinary run, in parallel (a process '
        'pool, or a Dask cluster); a table of mean ± std per setting, and the curves',
        description='Every combination of the --set values × every seed is one run in '
        'OUT/SETTING/seed-S, trained as `minigen train` trains it. Run the same command again '
        'to continue: finished runs are read, unfinished ones resume. Writes OUT/sweep.json '
        '(every run, and mean ± std per setting) and OUT/curves.png; exits 1 if a run failed.')
    sweep.add_argument('model', choices=KINDS)
    sweep.add_argument('--seeds', type=_seeds, default=[0],
                       help='a range 0-4, a list 0,3,7, or both: 0-2,9 (default 0)')
    sweep.add_argument('--set', type=_axis, action='append', default=[], metavar='NAME=V1,V2',
                       help='a setting to sweep, by its flag name (lr=1e-3,3e-3; batch-size=32,'
                       '64; cell=lstm,gru; data=digits,digits28); each --set adds an axis')
    add_config_flags(sweep, seed=False)
    sweep.add_argument('--out', required=True, help='the sweep folder (the same one continues '
                       'a sweep)')
    sweep.add_argument('--workers', type=_positive(int), help='processes on this machine, each '
                       'running one run at a time (default: one per core; 1: in this process)')
    sweep.add_argument('--scheduler', metavar='ADDRESS', help='run on the Dask distributed '
                       'cluster whose scheduler is at ADDRESS (tcp://host:8786); its workers '
                       'must see --out and have minigen installed (pip install minigen[sweep])')
    sweep.set_defaults(run=_sweep_command)


def add_sample_parser(commands):
    sample = commands.add_parser('sample', help='sample from a trained model')
    sample.add_argument('checkpoint', help='a checkpoint.safetensors, or a run folder')
    sample.add_argument('--n', type=_positive(int), default=100,
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
    sample.add_argument('--seed', type=_seed, help='random seed, for a repeatable draw')
    sample.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    sample.set_defaults(run=_sample_command)


def add_tool_parsers(commands):
    """graph, bench and gradcheck: the commands for looking inside the engine."""
    graph = commands.add_parser('graph', help="draw the graph of a tiny model's loss (DOT, "
                                "PNG or SVG; Graphviz draws it when installed, else matplotlib)")
    graph.add_argument('model', choices=['vae', 'gan', 'charrnn'])
    graph.add_argument('--out', default='graph.dot', help='graph.dot, graph.png or graph.svg')
    graph.add_argument('--values', action='store_true', help="each node's value (the numbers "
                       "for at most 6 elements, else min/mean/max)")
    graph.add_argument('--grads', action='store_true', help="each node's gradient: d loss / d "
                       "its value")
    graph.set_defaults(run=_graph_command)
    bench = commands.add_parser('bench', help='the benchmark suite: minigen beside hand-written '
                                'NumPy (and PyTorch when installed)', add_help=False)
    bench.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    bench.set_defaults(run=_bench_command)
    check = commands.add_parser(
        'gradcheck', help='check every registered op against finite differences',
        description='Check every registered op (minigen/check/registry.py) and model '
                    'loss (minigen/models/gradcheck_cases.py): gradcheck and '
                    'gradgradcheck in float64, one row per op; exits 1 if any fails.')
    check.add_argument('only', nargs='*', help='check only ops whose name contains one of these')
    check.add_argument('--seed', type=int, default=0, help='seed of the random inputs')
    check.set_defaults(run=_gradcheck_command)


def add_explain_parser(commands):
    explain = commands.add_parser(
        'explain', help='walk one training step of a small model: every op, every backward '
        'call, the optimizer\'s update', description='Build a small model on one batch of the '
        'default data and print, in order, every forward op with its shapes, every backward '
        'call with the gradient shapes it returns, and Adam\'s update of one parameter, with '
        'a line of commentary for each kind of op.')
    explain.add_argument('model', choices=KINDS)
    explain.add_argument('--cell', choices=CELLS, help='recurrent cell (charrnn; default rnn)')
    explain.add_argument('--seed', type=_seed, default=0, help='random seed (default 0)')
    explain.add_argument('--html', metavar='FILE', help='also write the walkthrough as a page, '
                         'with the graph\'s picture and each op\'s values')
    explain.set_defaults(run=_explain_command)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose mistakes are one line on stderr (not the usage block too)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse(argv):
    """The command's arguments; `bench` passes what follows it to the speed suite."""
    parser = Parser(
        prog='minigen', description='minigen, a reverse-mode autograd engine to read and verify.')
    commands = parser.add_subparsers(dest='command', required=True)
    add_train_parser(commands)
    add_sweep_parser(commands)
    add_sample_parser(commands)
    add_tool_parsers(commands)
    add_explain_parser(commands)
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != 'bench':
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest + (['--device', args.device] if args.command == 'bench' else [])
    args.argv = sys.argv[1:] if argv is None else list(argv)
    return args


def _one_line(exc):
    return ' '.join(str(exc).split())


def main(argv=None):
    """Run one command; a user's mistake is one line on stderr and exit status 2."""
    args = parse(argv)
    try:
        return args.run(args)
    except BrokenPipeError:         # `minigen gradcheck | head`: the reader left, nothing wrong
        sys.stderr.close()
        return 0
    except USER_ERRORS as exc:      # a user's mistake: one line, no traceback
        print(f"minigen {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except TrainingStopped as exc:
        print(f"minigen {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        kept = ("finished runs and the checkpoints of unfinished ones are kept (runs already "
                "started on a Dask cluster finish there): run the same command again to "
                "continue" if args.command == 'sweep' else "the checkpoint of the last "
                "finished epoch is kept in the run folder (continue with --resume)")
        print(f"\nminigen {args.command}: interrupted; {kept}", file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
