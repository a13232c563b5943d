"""The command line: ``python -m minigen gradcheck`` (more commands come with the models)."""
import argparse
import sys
import time
import warnings


def _gradcheck_command(args):
    from .gradcheck import check_gradients, check_second_gradients
    from .opcases import CASES, inputs_for
    cases = [c for c in CASES if not args.only or any(k in c.name for k in args.only)]
    if not cases:
        print(f"no registered op matches {args.only}", file=sys.stderr)
        return 2
    width = max(len(c.name) for c in cases)
    header = f"{'op':<{width}}  {'check':<9} {'max abs err':>11} {'max rel err':>11}  result"
    print(header)
    print('-' * len(header))
    failures, start = [], time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # the registry's inputs are float64 already
        for case in cases:
            checks = [('grad', check_gradients)]
            if case.gradgrad:
                checks.append(('gradgrad', check_second_gradients))
            for label, check in checks:
                result = check(case.fn, inputs_for(case, seed=args.seed), name=case.name)
                verdict = 'ok' if result.ok else 'FAIL'
                print(f"{case.name:<{width}}  {label:<9} {result.max_abs_err:>11.2e} "
                      f"{result.max_rel_err:>11.2e}  {verdict}")
                if not result.ok:
                    failures.append(result.report)
    elapsed = time.perf_counter() - start
    total = sum(2 if c.gradgrad else 1 for c in cases)
    print(f"\n{total - len(failures)} passed, {len(failures)} failed "
          f"({len(cases)} ops, float64 central differences, {elapsed:.1f}s)")
    for report in failures:
        print('\n' + report)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='minigen', description=__doc__)
    commands = parser.add_subparsers(dest='command', required=True)
    check = commands.add_parser(
        'gradcheck', help='check every registered op against finite differences')
    check.add_argument('only', nargs='*', help='check only ops whose name contains one of these')
    check.add_argument('--seed', type=int, default=0, help='seed of the random inputs')
    check.set_defaults(run=_gradcheck_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())
