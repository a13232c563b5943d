"""The commands for looking inside the engine: ``gradcheck``, ``graph``, ``explain``, ``bench``."""
import sys
import time
import warnings

from ..core.errors import UsageError
from ..train import KINDS
from ..train.config import CELLS
from .flags import seed_number


def _gradcheck_command(args):
    """One row per registered op: the worst errors of its first and second derivatives."""
    from ..check.registry import CASES
    from ..models.gradcheck_cases import CASES as MODEL_CASES
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
    from ..check import check_gradients, check_second_gradients
    from ..check.registry import inputs_for
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


def _graph_command(args):
    """Write the graph of a tiny model's loss: DOT text, or a PNG/SVG picture (Graphviz when
    installed, matplotlib otherwise), the data inputs named as in the model's code."""
    import os
    from .. import viz
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
    from .. import models
    from ..core.creation import manual_seed, rand, randn, tensor
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
    from ..train import explain
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
    from ..bench import suite
    if args.device == 'cuda':
        from ..core import backend
        backend.module_for_device('cuda')            # no GPU: say so before starting
    suite.main(args.rest)
    return 0


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
    explain.add_argument('--seed', type=seed_number, default=0, help='random seed (default 0)')
    explain.add_argument('--html', metavar='FILE', help='also write the walkthrough as a page, '
                         'with the graph\'s picture and each op\'s values')
    explain.set_defaults(run=_explain_command)
