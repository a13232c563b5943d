"""``minigen sweep``: its flags, --seeds and --set, and the lines it prints (the sweep itself is
minigen/train/sweep.py, its report minigen/train/sweep_report.py)."""
import argparse
import shlex

from ..core.errors import UsageError
from ..train import CONFIGS, KINDS
from .flags import (CONFIG_FLAGS, FLAG_TYPES, add_config_flags, check_has, given_flags,
                    positive)


def _seeds(text):
    from ..train.sweep import parse_seeds
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
        check_has(config, kind, name)
        flag = '--' + name.replace('_', '-')
        if name in flags:
            raise UsageError(f"{flag} is given as a flag and swept with --set: give it once")
        if names.count(name) > 1:
            raise UsageError(f"{flag} is given twice with --set: give it once")


def _sweep_command(args):
    """Run a sweep (train/sweep.py), then print and write its report (train/sweep_report.py)."""
    from ..core import backend
    from ..train import sweep as sweeps, sweep_report
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
    from ..train.sweep import default_workers
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
    from ..train.sweep_report import SHOWN, final_metrics
    name = (record['setting'] + ', ' if record['setting'] else '') + f"seed {record['seed']}"
    if record['status'] == 'failed':
        said = f"failed: {record['error']}"
    else:
        measure = SHOWN[record['kind']][0]
        value = final_metrics(record['summary']).get(measure)
        said = record['status'] + (f", {measure} {value:.5g}" if value is not None else '')
    print(f"[{done}/{total}] {name}: {said} ({record['seconds']:.1f} s)", flush=True)


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
    sweep.add_argument('--workers', type=positive(int), help='processes on this machine, each '
                       'running one run at a time (default: one per core; 1: in this process)')
    sweep.add_argument('--scheduler', metavar='ADDRESS', help='run on the Dask distributed '
                       'cluster whose scheduler is at ADDRESS (tcp://host:8786); its workers '
                       'must see --out and have minigen installed (pip install minigen[sweep])')
    sweep.set_defaults(run=_sweep_command)
