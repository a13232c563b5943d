"""The training application: ``minigen train vae|gan|wgan-gp|charrnn`` and ``minigen sample``.

    config.py      a dataclass per run kind, every default in one place
    runs.py        run folders, data, the model and its optimizers, what a resume may change
    checkpoint.py  what a checkpoint holds, and the check of a file against it
    loops.py       the training loops (they read only the config)
    progress.py    the running loss, as a bar or as plain lines
    report.py      the end of a run: measures and summary
    pictures.py    sample grids and loss curves (PNG)
    sampling.py    ``minigen sample``
    explain.py     ``minigen explain``: one training step recorded, op by op (explain_format.py
                   tells it as text and as a page)
    sweep.py       ``minigen sweep``: seeds × settings, each an ordinary run, on a process pool
                   or a Dask cluster (sweep_report.py: mean ± std per setting, the curves)

    from minigen.train import VAEConfig, train
    folder, (metrics, files) = train(VAEConfig(epochs=5))

    lr = ('lr', [('1e-3', 1e-3), ('3e-3', 3e-3)])        # (field, [(as written, value)])
    records = run_sweep(Sweep('vae', seeds=[0, 1], axes=[lr]), 'sweeps/vae-lr')
"""
from .config import CONFIGS, KINDS, CharRNNConfig, GANConfig, VAEConfig, WGANGPConfig
from .loops import continue_run, train
from ..core.errors import TrainingStopped, UsageError
from .report import DigitClassifier, frechet_distance
from .sampling import sample
from .sweep import Sweep, run_sweep

__all__ = ['CONFIGS', 'KINDS', 'VAEConfig', 'GANConfig', 'WGANGPConfig', 'CharRNNConfig',
           'train', 'continue_run', 'sample', 'Sweep', 'run_sweep', 'frechet_distance',
           'DigitClassifier',
           'TrainingStopped', 'UsageError']
