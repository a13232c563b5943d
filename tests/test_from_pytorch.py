"""PyTorch programs port by changing their imports: each script in examples/pytorch_habits/ is
written as a PyTorch user writes it, and runs on minigen after ``port.ported`` rewrites its
import lines, and nothing else (docs/from-pytorch.md)."""
import importlib.util
import pathlib
import runpy

import pytest

HABITS = pathlib.Path(__file__).resolve().parents[1] / 'examples' / 'pytorch_habits'
SCRIPTS = sorted(p.name for p in HABITS.glob('*.py') if p.name != 'port.py')


def port_module():
    spec = importlib.util.spec_from_file_location('port', HABITS / 'port.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_a_script_for_each_habit_the_issue_names():
    assert {'mlp_classifier.py', 'vae_module.py', 'custom_function.py',
            'lstm_char_model.py'} <= set(SCRIPTS)


@pytest.mark.parametrize('name', SCRIPTS)
def test_a_pytorch_script_runs_after_changing_only_its_imports(name, capsys):
    port = port_module()
    source = (HABITS / name).read_text()
    assert 'import torch' in source and 'minigen' not in source      # a PyTorch script
    changed = [(a, b) for a, b in zip(source.splitlines(), port.ported(source).splitlines())
               if a != b]
    assert changed and all(a.startswith(('import ', 'from ')) for a, _ in changed)
    port.run(str(HABITS / name))                                         # its own asserts
    assert capsys.readouterr().out.strip()


def test_port_leaves_other_lines_alone():
    port = port_module()
    text = "import torch\nx = torch.zeros(2)  # import torch\nimport torchvision\n"
    assert port.ported(text) == ("import minigen as torch\nx = torch.zeros(2)  # import torch\n"
                                 "import torchvision\n")


def test_the_port_script_runs_from_the_command_line(tmp_path, capsys, monkeypatch):
    script = tmp_path / 'tiny.py'
    script.write_text("import torch\nprint(torch.ones(2).sum().item())\n")
    monkeypatch.setattr('sys.argv', ['port.py', str(script)])
    runpy.run_path(str(HABITS / 'port.py'), run_name='__main__')
    assert capsys.readouterr().out.strip() == '2.0'
