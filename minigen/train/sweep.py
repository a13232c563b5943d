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

- by default a pool of processes on this machine, one per core, each running one run at a time
  with one BLAS thread (the runs' default), so that they do not fight over the cores;
- with ``scheduler`` a Dask distributed cluster, whose workers call the same ``run_one``. A
  run's random generator and its BLAS thread limit belong to its process, so ``run_one`` holds a
  lock: a worker process runs one run at a time whatever its thread count, and the results do
  not depend on it. The workers must see ``DIR`` (a shared file system, as clusters have).

sweep_report.py turns the runs' summaries into the table, sweep.json and the curves' picture.
"""
import concurrent.futures
import dataclasses
import itertools
import json
import multiprocessing
import os
import re
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


@dataclasses.dataclass
class Sweep:
    """What a sweep runs: ``flags`` ({config field: value}) apply to every run; each axis is
    (config field, [(the value as the user wrote it, the value), ...])."""
    kind: str
    seeds: list
    axes: list = dataclasses.field(default_factory=list)
    flags: dict = dataclasses.field(default_factory=dict)
    device: str | None = None

    def settings(self):
        """[(label, {field: value})] for every combination of the axes, in the order given:
        'lr=1e-3 hidden=128', or '' when there is no axis."""
        names = [name for name, _ in self.axes]
        return [(' '.join(f"{name.replace('_', '-')}={text}"
                          for name, (text, _) in zip(names, combo)),
                 {name: value for name, (_, value) in zip(names, combo)})
                for combo in itertools.product(*(values for _, values in self.axes))]

    def tasks(self, out):
        """Every run of the sweep, settings first, then seeds."""
        tasks, folders = [], {}
        for label, values in self.settings():
            setting_folder = folder_name(label)
            if setting_folder in folders:
                raise UsageError(f"the settings {folders[setting_folder]!r} and {label!r} would "
                                 f"share the folder {setting_folder}")
            folders[setting_folder] = label
            for seed in self.seeds:
                folder = os.path.join(out, setting_folder, f'seed-{seed}')
                tasks.append(Task(self.kind, {**self.flags, **values, 'seed': seed}, folder,
                                  label, seed, self.device))
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


def folder_name(label):
    """A setting's folder: its label with ',' between the axes, and any character that has no
    place in a file name (a path's '/') as '_'."""
    return re.sub(r'[^\w.=+,-]', '_', label.replace(' ', ',')) if label else ''


def parse_seeds(text):
    """'0-4' → [0, 1, 2, 3, 4]; '0,3,7' → [0, 3, 7]; '0-2,9' → [0, 1, 2, 9]."""
    seeds = []
    for part in text.split(','):
        match = re.fullmatch(r'\s*(\d+)\s*(?:-\s*(\d+)\s*)?', part)
        if not match:
            raise UsageError(f"--seeds {text}: {part.strip()!r} is neither a seed (7) nor a "
                             f"range (0-4) of whole numbers ≥ 0")
        first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if last < first:
            raise UsageError(f"--seeds {text}: the range {part.strip()} runs backwards")
        seeds += range(first, last + 1)
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise UsageError(f"--seeds {text}: seed {repeated[0]} is given twice")
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
    tune_malloc()                    # as `minigen train` does: the same process conditions
    recorded = _recorded(task.folder)
    if recorded is None:
        _clear_unstarted(task.folder)
        config = CONFIGS[task.kind]()
        for name, value in task.values.items():
            setattr(config, name, value)
        train(config, task.folder, task.device, quiet=True)
        return 'ran'
    config, finished = recorded
    changes = _changes(task, config)
    if finished and not changes:
        return 'done before'
    continue_run(task.folder, task.kind, changes, task.device, quiet=True)
    return 'resumed'


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
    """Run every run of ``sweep`` into ``out``: on a pool of ``workers`` processes (default one
    per core; 1: in this process, one after another), or on the Dask cluster of ``client``
    (``dask_client``). The list of records, in the grid's order; ``echo(record, done,
    total)`` is told of each as it ends."""
    tasks = sweep.tasks(out)
    records, done = {}, 0
    for record in _execute(tasks, workers, client):
        done += 1
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


def _execute(tasks, workers, client):
    """Each task's record, as each ends."""
    if client is not None:
        yield from _on_dask(tasks, client)
        return
    workers = min(workers or default_workers(), len(tasks))
    if workers == 1:
        for task in tasks:
            yield run_one(task)
        return
    # spawn: a fresh interpreter per worker (forking a process with BLAS threads is unsafe)
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context('spawn'))
    with pool:
        futures = {pool.submit(run_one, task): task for task in tasks}
        try:
            yield from _records(futures, concurrent.futures.as_completed)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


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
    from distributed import as_completed
    futures = {client.submit(run_one, task, pure=False): task for task in tasks}
    yield from _records(futures, as_completed)


def _records(futures, as_completed):
    """The records of ``futures`` ({future: task}) as they end; a worker that died mid-run
    (killed, out of memory) fails that run, not the sweep."""
    for future in as_completed(list(futures)):
        try:
            yield future.result()
        except Exception as exc:
            task = futures[future]
            yield {'kind': task.kind, 'setting': task.setting, 'seed': task.seed,
                   'folder': task.folder,
                   'status': 'failed', 'seconds': 0.0,
                   'error': f"its worker died: {type(exc).__name__}: {exc}"}


def begin(sweep, out, command=None):
    """Make (or reopen) the sweep folder ``out`` and write the sweep's definition into its
    sweep.json. A folder of an earlier sweep is continued only if that sweep trained the same
    kind with the same flags (its seeds and axes may grow; its --epochs/--steps too, and when
    not given again they stay as they were)."""
    path = os.path.join(out, 'sweep.json')
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder; name a folder for the sweep")
    if os.path.exists(path):
        _check_continues(_read_json(path), sweep, out)
    elif os.path.isdir(out) and os.listdir(out):
        raise UsageError(f"--out {out} holds files but no sweep.json, so it is not a sweep's "
                         f"folder; choose a new folder")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder ({exc.strerror})") from None
    from .sweep_report import write_json
    write_json({'kind': sweep.kind, 'command': command, 'seeds': sweep.seeds,
                'axes': {name: [text for text, _ in values] for name, values in sweep.axes},
                'flags': sweep.flags, 'settings': None}, out)


def _check_continues(earlier, sweep, out):
    length = CONFIGS[sweep.kind]().length_name
    if earlier.get('kind') != sweep.kind:
        raise UsageError(f"--out {out} holds a sweep of {earlier.get('kind')}, not "
                         f"{sweep.kind}; choose a new folder")
    before, now = dict(earlier.get('flags') or {}), dict(sweep.flags)
    if length in before and length not in now:     # not given again: as long as before
        sweep.flags[length] = now[length] = before[length]
    if before.get(length, 0) > now.get(length, before.get(length, 0)):
        raise UsageError(f"--out {out}: its runs were given --{length} {before[length]}; a "
                         f"sweep continued may train longer, not shorter")
    if {k: v for k, v in before.items() if k != length} != \
            {k: v for k, v in now.items() if k != length}:
        shown = lambda flags: ' '.join(f"--{k.replace('_', '-')} {v}"       # noqa: E731
                                       for k, v in sorted(flags.items())) or 'no flags'
        raise UsageError(f"--out {out} holds a sweep run with {shown(before)}, not "
                         f"{shown(now)}; continue it with the same flags, or choose a new "
                         f"folder")
