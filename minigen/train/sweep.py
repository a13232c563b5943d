"""``minigen sweep``: seeds × settings, each one an ordinary run, on a process pool or a Dask
cluster.

    minigen sweep vae --seeds 0-4 --set lr=1e-3,3e-3 --set hidden=128,256 --out DIR

A sweep is a grid. Every combination of the ``--set`` axes (a *setting*) × every seed is one
run, in its own run folder ``DIR/<setting>/seed-<s>`` (``DIR/seed-<s>`` when there is no axis),
trained by the same ``train`` a run started by hand uses: each can be resumed, sampled or
inspected like one, and it is the same run, bit for bit.

Running the same command again continues the sweep: a finished run is read, not redone; an
unfinished one resumes from its checkpoint (bit for bit, as ``--resume`` does); a larger
``--epochs``/``--steps`` extends every run. A run that fails (a setting its kind refuses, a loss
that stops being finite) is reported, and the others go on.

Where the runs go:

- by default on this machine, each run in a fresh process of its own, as many at a time as
  there are cores, each with one BLAS thread (the runs' default) so that they do not fight
  over the cores; a process that dies fails its own run only;
- with ``scheduler`` a Dask distributed cluster, whose workers call the same ``run_one``. A
  run's random generator and its BLAS thread limit belong to its process, so ``run_one`` holds a
  lock: a worker process runs one run at a time whatever its thread count, and the results do
  not depend on it. The workers must see ``DIR`` (a shared file system, as clusters have).

sweep_report.py turns the runs' summaries into the table, sweep.json and the curves' picture.
"""
import dataclasses
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import threading
import time
import traceback

from ..core.errors import (BackendError, CheckpointError, DataError, TrainingStopped,
                           UsageError)
from ..io import load
from .checkpoint import checkpoint_path
from .config import CONFIGS
from .loops import continue_run, train
from .memory import tune_malloc
from .runs import make_folder
from .sweep_report import definition, write_json


@dataclasses.dataclass
class Sweep:
    """What a sweep runs: ``flags`` ({config field: value}) apply to every run; each axis is
    (config field, [its values]), such as ('lr', [1e-3, 3e-3])."""
    kind: str
    seeds: list
    axes: list = dataclasses.field(default_factory=list)
    flags: dict = dataclasses.field(default_factory=dict)
    device: str | None = None

    def settings(self):
        """[(label, {field: value})] for every combination of the axes, in the order given,
        labelled 'lr=0.001 hidden=128' ('' when there is no axis)."""
        names = [name for name, _ in self.axes]
        settings = []
        for combination in itertools.product(*(values for _, values in self.axes)):
            values = dict(zip(names, combination))
            label = ' '.join(f"{flag_name(name)}={value_text(v)}" for name, v in values.items())
            settings.append((label, values))
        return settings

    def tasks(self, out):
        """Every run of the sweep, settings first, then seeds; a UsageError if two settings
        would share a folder."""
        tasks, folders = [], {}
        for label, values in self.settings():
            folder = setting_folder(values)
            if folder in folders:
                raise UsageError(f"the settings {folders[folder]!r} and {label!r} would share "
                                 f"the folder {folder}")
            folders[folder] = label
            for seed in self.seeds:
                tasks.append(Task(self.kind, {**self.flags, **values, 'seed': seed},
                                  os.path.join(out, folder, f'seed-{seed}'), label, seed,
                                  self.device))
        return tasks


@dataclasses.dataclass(frozen=True)
class Task:
    """One run of a sweep: its kind, the config fields the sweep sets, and where it goes."""
    kind: str
    values: dict
    folder: str
    setting: str
    seed: int
    device: str | None = None


def flag_name(field):
    return field.replace('_', '-')


def value_text(value):
    """A value as a label shows it: a float by its shortest exact form (1e-3 and 0.001 are
    both 0.001, so they are one setting and one folder)."""
    return repr(value) if isinstance(value, float) else str(value)


def setting_folder(values):
    """A setting's folder: 'lr=0.001,hidden=128' ('' when there is no axis), any character
    that has no place in a file name (a path's '/', a space, a comma) written '_'."""
    return ','.join(f"{flag_name(name)}={_file_name_part(value_text(v))}"
                    for name, v in values.items())


def _file_name_part(text):
    return re.sub(r'[^\w.+-]', '_', text)


def parse_seeds(text):
    """'0-4' → [0, 1, 2, 3, 4]; '0,3,7' → [0, 3, 7]; '0-2,9' → [0, 1, 2, 9]."""
    seeds, seen = [], set()
    for part in text.split(','):
        match = re.fullmatch(r'\s*(\d+)\s*(?:-\s*(\d+)\s*)?', part)
        if not match:
            raise UsageError(f"--seeds {text}: {part.strip()!r} is neither a seed (7) nor a "
                             f"range (0-4) of whole numbers ≥ 0")
        first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if last < first:
            raise UsageError(f"--seeds {text}: the range {part.strip()} runs backwards")
        for seed in range(first, last + 1):
            if seed in seen:
                raise UsageError(f"--seeds {text}: seed {seed} is given twice")
            seen.add(seed)
            seeds.append(seed)
    return seeds


# --------------------------------------------------------------------------------- one run

_ONE_RUN_AT_A_TIME = threading.Lock()      # a run's generator and BLAS threads are the process's
USER_ERRORS = (UsageError, DataError, BackendError, TrainingStopped)


def run_one(task):
    """Train, resume or read one run of a sweep: its record, a plain dict (status 'ran',
    'resumed', 'done before' or 'failed', with the summary's metrics or the error). A run's
    own failure is a record, never an exception, so the other runs go on."""
    with _ONE_RUN_AT_A_TIME:
        began = time.perf_counter()
        record = {'kind': task.kind, 'setting': task.setting, 'seed': task.seed,
                  'folder': task.folder}
        try:
            record['status'] = _train_or_resume(task)
            record['summary'] = _read_json(os.path.join(task.folder, 'summary.json'))
        except USER_ERRORS as exc:
            record.update(status='failed', error=' '.join(str(exc).split()))
        except Exception as exc:          # a bug: said with its traceback, the others go on
            record.update(status='failed', error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
        record['seconds'] = time.perf_counter() - began
        return record


def _train_or_resume(task):
    if _finished_as_asked(task):
        return 'done before'
    tune_malloc()                    # as `minigen train` does: the same process conditions
    recorded = _recorded(task.folder)
    if recorded is None:
        _clear_unstarted(task.folder)
        config = CONFIGS[task.kind]()
        for name, value in task.values.items():
            setattr(config, name, value)
        train(config, task.folder, task.device, quiet=True)
        return 'ran'
    continue_run(task.folder, task.kind, _changes(task, recorded[0]), task.device, quiet=True)
    return 'resumed'


def _finished_as_asked(task):
    """Whether the run in the task's folder finished with the task's settings."""
    try:
        recorded = _recorded(task.folder)
        return recorded is not None and recorded[1] and not _changes(task, recorded[0])
    except (UsageError, OSError, ValueError, KeyError, TypeError):
        return False                 # run_one, in its own process, will say what is wrong


def _recorded(folder):
    """(the config dict of the run in ``folder``, whether it finished), or None if no run has
    made a checkpoint there."""
    summary = os.path.join(folder, 'summary.json')
    if os.path.exists(summary):
        return _read_json(summary)['config'], True
    if os.path.exists(checkpoint_path(folder)):
        try:
            state = load(checkpoint_path(folder))
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None
        return dict(state.get('config', {})), False
    return None


def _changes(task, recorded):
    """The settings a recorded run must change to be this task's run: only its length may
    grow (--epochs, --steps); any other difference is a UsageError."""
    length = CONFIGS[task.kind]().length_name
    changes = {}
    for name, value in task.values.items():
        old = recorded.get(name)
        if old == value:
            continue
        if name == length and old is not None and value > old:
            changes[name] = value
            continue
        raise UsageError(f"{task.folder} holds a run with {name.replace('_', ' ')} {old}, not "
                         f"{value}: a sweep's runs keep their settings (only --{length} may "
                         f"grow); give the sweep a new --out")
    return changes


def _clear_unstarted(folder):
    """Empty a run folder that holds no checkpoint (the run was stopped in its first epoch),
    so that it starts again; refuse one that holds anything a run does not write."""
    if not os.path.isdir(folder):
        return
    names = os.listdir(folder)
    strangers = [n for n in names if n != 'metrics.jsonl' and not n.endswith('.tmp')]
    if strangers:
        raise UsageError(f"{folder} holds {', '.join(sorted(strangers))} but no checkpoint: "
                         f"not a run this sweep can continue; move it away")
    for name in names:
        os.remove(os.path.join(folder, name))


def _read_json(path):
    with open(path) as f:
        return json.load(f)


# --------------------------------------------------------------------------------- the sweep

def run_sweep(sweep, out, workers=None, client=None, echo=None):
    """Run every run of ``sweep`` into ``out``: ``workers`` at a time on this machine (default
    one per core; 1: in this process, one after another), or on the Dask cluster of ``client``
    (``dask_client``). The list of records, in the grid's order; ``echo(record, done,
    total)`` is told of each as it ends."""
    tasks = sweep.tasks(out)
    done_before = [t for t in tasks if _finished_as_asked(t)]     # read here, no process
    to_run = [t for t in tasks if t not in done_before]
    workers = min(workers or default_workers(), len(to_run) or 1)
    if client is not None:
        finished = _on_dask(to_run, client)
    elif workers == 1:
        finished = map(run_one, to_run)
    else:
        finished = _on_processes(to_run, workers)
    records = {}
    for done, record in enumerate(itertools.chain(map(run_one, done_before), finished), 1):
        records[record['folder']] = record
        if echo:
            echo(record, done, len(tasks))
    return [records[task.folder] for task in tasks]


def default_workers():
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                   # not on Linux
        return os.cpu_count() or 1


def _on_processes(tasks, workers):
    """Each task's record as it ends, every run in a fresh process of its own (spawned:
    forking a process that holds BLAS threads is unsafe), ``workers`` at a time. A process
    that dies (killed, out of memory) fails its own run only; when the sweep is interrupted
    every run still going is stopped at once (its last checkpoint is whole: they are written
    atomically)."""
    context = multiprocessing.get_context('spawn')
    waiting, running = list(reversed(tasks)), {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                task = waiting.pop()
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_run_and_send, args=(task, send), daemon=True)
                process.start()
                send.close()                 # the child's end: EOF here when the child dies
                running[receive] = process, task
            for receive in multiprocessing.connection.wait(list(running)):
                process, task = running.pop(receive)
                yield _received(receive, process, task)
    finally:
        for process, _ in running.values():
            process.terminate()


def _run_and_send(task, send):
    """A run's process: Ctrl-C is the parent's to handle (it stops this process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    send.send(run_one(task))
    send.close()


def _received(receive, process, task):
    try:
        record = receive.recv()
    except EOFError:
        process.join()
        record = _failed(task, f"its process died (exit status {process.exitcode})")
    process.join()
    return record


def _failed(task, error):
    return {'kind': task.kind, 'setting': task.setting, 'seed': task.seed,
            'folder': task.folder, 'status': 'failed', 'seconds': 0.0, 'error': error}


CONNECT_SECONDS = 10                       # how long a Dask scheduler has to answer


def dask_client(address):
    """A client of the Dask scheduler at ``address``: a UsageError when the distributed
    package is missing or nothing answers there within CONNECT_SECONDS."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed package: pip install "
                         "'minigen[sweep]'") from None
    try:
        return Client(address, timeout=f'{CONNECT_SECONDS}s')
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler {address}: no Dask scheduler answered there "
                         f"({' '.join(str(exc).split())})") from None


def _on_dask(tasks, client):
    """Each task's record as it ends, from the cluster's workers. A worker that dies fails
    the run it held; an interrupted sweep cancels the runs not yet started (Dask cannot stop
    one already running: it finishes on its worker)."""
    from distributed import as_completed
    futures = {client.submit(run_one, task, pure=False): task for task in tasks}
    try:
        for future in as_completed(list(futures)):
            try:
                yield future.result()
            except Exception as exc:
                yield _failed(futures[future],
                              f"its worker died: {type(exc).__name__}: {exc}")
    finally:
        client.cancel(list(futures))


# ------------------------------------------------------------------------- the sweep folder

def begin(sweep, out, command=None):
    """Make (or reopen) the sweep folder ``out`` and write the sweep's definition into its
    sweep.json. A folder of an earlier sweep is continued only if that sweep trained the same
    kind with the same flags (its seeds and axes may grow; its --epochs/--steps too, and when
    not given again they stay as they were)."""
    sweep.tasks(out)                        # two settings that would share a folder: say so now
    path = os.path.join(out, 'sweep.json')
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder; name a folder for the sweep")
    if os.path.exists(path):
        earlier = _earlier_sweep(path, out)
        _check_same_kind_and_flags(earlier, sweep, out)
        _keep_earlier_length(earlier, sweep)
    elif os.path.isdir(out) and os.listdir(out):
        raise UsageError(f"--out {out} holds files but no sweep.json, so it is not a sweep's "
                         f"folder; choose a new folder")
    make_folder(out)
    write_json(definition(sweep, command), out)


def _earlier_sweep(path, out):
    try:
        earlier = _read_json(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--out {out}: its sweep.json cannot be read ({exc}); choose a new "
                         f"folder") from None
    if not isinstance(earlier, dict) or not isinstance(earlier.get('flags', {}), dict):
        raise UsageError(f"--out {out}: its sweep.json is not a sweep's record; choose a new "
                         f"folder")
    return earlier


def _check_same_kind_and_flags(earlier, sweep, out):
    """The same kind, and the same flags but for the run length (which may only grow)."""
    if earlier.get('kind') != sweep.kind:
        raise UsageError(f"--out {out} holds a sweep of {earlier.get('kind')}, not "
                         f"{sweep.kind}; choose a new folder")
    length = CONFIGS[sweep.kind]().length_name
    before, now = earlier.get('flags') or {}, sweep.flags
    if length in before and length in now and now[length] < before[length]:
        raise UsageError(f"--out {out}: its runs were given --{length} {before[length]}; a "
                         f"sweep continued may train longer, not shorter")
    if _without(before, length) != _without(now, length):
        raise UsageError(f"--out {out} holds a sweep run with {_flags_text(before)}, not "
                         f"{_flags_text(now)}; continue it with the same flags, or choose a "
                         f"new folder")


def _keep_earlier_length(earlier, sweep):
    """--epochs/--steps not given again: the runs stay as long as the earlier sweep's."""
    length = CONFIGS[sweep.kind]().length_name
    before = earlier.get('flags') or {}
    if length in before and length not in sweep.flags:
        sweep.flags[length] = before[length]


def _without(flags, name):
    return {k: v for k, v in flags.items() if k != name}


def _flags_text(flags):
    return ' '.join(f"--{flag_name(k)} {v}" for k, v in sorted(flags.items())) or 'no flags'
