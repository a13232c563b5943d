"""The training app tunes glibc's malloc when it starts (memory.py); a library import does not,
and MINIGEN_MALLOC=default turns it off."""
import os
import subprocess
import sys

import pytest

from minigen.train import memory

GLIBC = sys.platform.startswith('linux') and os.confstr('CS_GNU_LIBC_VERSION') is not None


def test_minigen_malloc_default_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv('MINIGEN_MALLOC', 'default')
    assert memory.tune_malloc() == 'default (MINIGEN_MALLOC=default)'
    assert memory.setting == 'default (MINIGEN_MALLOC=default)'


@pytest.mark.skipif(not GLIBC, reason='mallopt is glibc’s')
def test_tuning_says_what_it_set(monkeypatch):
    monkeypatch.delenv('MINIGEN_MALLOC', raising=False)
    assert memory.tune_malloc() == 'tuned (mmap threshold 32 MiB, trim threshold 128 MiB)'


def test_importing_minigen_changes_no_process_wide_setting():
    code = ('import minigen, minigen.train, minigen.train.memory as m; import minigen.cli; '
            'print(m.setting)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "the process's own"
