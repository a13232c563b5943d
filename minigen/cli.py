"""The command line: ``python -m minigen gradcheck`` (more commands come with the models)."""
import argparse
import sys
import time
import warnings


def _gradcheck_command(args):
    """One row per registered op: the worst errors of its first and second derivatives."""
    from .gradcheck import check_gradients, check_second_gradients
    from .opcases import CASES, inputs_for
    cases = [c for c in CASES if not args.only or any(k in c.name for k in args.only)]
    if not cases:
        print(f"no registered op matches {' '.join(args.only)}", file=sys.stderr)
        return 2
    width = max(len(c.name) for c in cases)
    print(f"{'':<{width}}  {'gradcheck':^21}  {'gradgradcheck':^21}")
    header = f"{'op':<{width}}  {'max abs err':>10} {'max rel err':>10}  " \
             f"{'max abs err':>10} {'max rel err':>10}  result"
    print(header)
    print('-' * len(header))
    failures, failed_ops, start = [], 0, time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # the registry's inputs are float64 already
        for case in cases:
            first = check_gradients(case.fn, inputs_for(case, seed=args.seed), name=case.name)
            second = check_second_gradients(case.fn, inputs_for(case, seed=args.seed),
                                            name=case.name) if case.gradgrad else None
            results = [r for r in (first, second) if r is not None]
            failures += [r.report for r in results if not r.ok]
            second_cols = f"{second.max_abs_err:>10.1e} {second.max_rel_err:>10.1e}" \
                if second else f"{'n/a':>10} {'n/a':>10}"
            verdict = 'ok' if all(r.ok for r in results) else 'FAIL'
            failed_ops += verdict == 'FAIL'
            print(f"{case.name:<{width}}  {first.max_abs_err:>10.1e} {first.max_rel_err:>10.1e}"
                  f"  {second_cols}  {verdict}")
    elapsed = time.perf_counter() - start
    print(f"\n{len(cases) - failed_ops} passed, {failed_ops} failed "
          f"({len(cases)} ops; float64 central differences, eps=1e-6, atol=1e-5, rtol=1e-3; "
          f"{elapsed:.1f}s)")
    for report in failures:
        print('\n' + report)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='minigen', description='minigen, a reverse-mode autograd engine to read and verify.')
    commands = parser.add_subparsers(dest='command', required=True)
    check = commands.add_parser(
        'gradcheck', help='check every registered op against finite differences',
        description='Check every registered op (minigen/opcases.py): gradcheck and '
                    'gradgradcheck in float64, one row per op; exits 1 if any fails.')
    check.add_argument('only', nargs='*', help='check only ops whose name contains one of these')
    check.add_argument('--seed', type=int, default=0, help='seed of the random inputs')
    check.set_defaults(run=_gradcheck_command)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:         # `minigen gradcheck | head`: the reader left, nothing wrong
        sys.stderr.close()
        return 0


if __name__ == '__main__':
    sys.exit(main())
