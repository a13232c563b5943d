"""The training application: ``minigen train vae|gan|wgan-gp|charrnn`` and ``minigen sample``.

    config.py   a dataclass per run kind, every default in one place
    runs.py     run folders, data, building the model and its optimizers
    checkpoint.py  what a checkpoint holds, and the check of a file against it
    loops.py    the training loops (they read only the config)
    report.py   the end of a run: measures, pictures, summary; sampling a trained model

    from minigen.train import VAEConfig, train
    folder, (metrics, files) = train(VAEConfig(epochs=5))
"""
from .config import CONFIGS, KINDS, CharRNNConfig, GANConfig, VAEConfig, WGANGPConfig
from .loops import continue_run, train
from .report import DigitClassifier, frechet_distance, sample
from .runs import TrainingStopped, UsageError

__all__ = ['CONFIGS', 'KINDS', 'VAEConfig', 'GANConfig', 'WGANGPConfig', 'CharRNNConfig',
           'train', 'continue_run', 'sample', 'frechet_distance', 'DigitClassifier',
           'TrainingStopped', 'UsageError']
