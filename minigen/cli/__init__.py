"""The command line (also ``python -m minigen ...``), one module per group of commands:

    train.py   ``minigen train`` and ``minigen sample``
    sweep.py   ``minigen sweep``: seeds × settings, each an ordinary run
    tools.py   ``gradcheck``, ``graph``, ``explain``, ``bench``: looking inside the engine
    flags.py   the flags that set a run's config, shared by train and sweep

Each command is a function ``_NAME_command(args)``; ``main`` turns a user's mistake into one
line on stderr and exit status 2.
"""
import argparse
import sys

from ..core.errors import BackendError, DataError, TrainingStopped, UsageError
from .sweep import add_sweep_parser
from .tools import add_explain_parser, add_tool_parsers
from .train import add_sample_parser, add_train_parser


USER_ERRORS = (UsageError, DataError, BackendError)


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
