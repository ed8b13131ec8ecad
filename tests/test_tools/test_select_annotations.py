"""tools/select_annotations.py end to end on a small synthetic Cityscapes set: a split
of unique pool names, and a stopped-then-resumed run that writes the same split."""
import json

import numpy as np
import pytest
import torch

from ..conftest import REPO, load_tool

STEPS = ['3', '6', '10']
STUDENT_CONFIG = 'configs/sdeseg/selection/resnet18_side_student_synthetic.py'


@pytest.fixture(scope='module')
def selection_setup(tmp_path_factory):
    """12 synthetic train frames of 64x128, an SDE config reading them and a
    randomly initialised SDE checkpoint."""
    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig
    from mmdepthsem.registry import MODELS
    from mmdepthsem.utils import register_all_modules

    root = tmp_path_factory.mktemp('select')
    generate_dataset('cityscapes', str(root), seed=0, config=CityscapesConfig(
        height=64, width=128, train_cities=('aachen', ), val_cities=('frankfurt', ),
        train_sequences_per_city=12, val_sequences_per_city=1,
        sequence_offsets=(0, )))
    data_root = root / 'cityscapes'
    base = REPO / 'configs' / '_base_' / 'models' / 'monodepth2_resnet18.py'
    config = root / 'sde_tiny.py'
    config.write_text(f"""
_base_ = [{str(base)!r}]
model = dict(backbone=dict(pretrained=False),
             pose_net=dict(encoder=dict(checkpoint=None)))
dataset = dict(type='CityscapesDepthSemDataset', data_root={str(data_root)!r},
               with_seg=False, with_disparity=False, with_camera=False)
train_dataloader = dict(batch_size=2, dataset=dict(dataset, split='train', pipeline=[]))
test_dataloader = dict(batch_size=1, dataset=dict(
    dataset, split='val',
    pipeline=[dict(type='LoadImageFromFile'), dict(type='PackDepthSemInputs')]))
""")
    register_all_modules()
    from mmengine.config import Config
    from mmdepthsem.utils.tool_config import model_cfg_without_downloads
    torch.manual_seed(0)
    model = MODELS.build(model_cfg_without_downloads(Config.fromfile(str(config)).model))
    checkpoint = root / 'sde.pth'
    torch.save({'state_dict': model.state_dict()}, str(checkpoint))
    names = sorted(p.name[:-len('_leftImg8bit.png')]
                   for p in (data_root / 'leftImg8bit' / 'train').rglob('*.png'))
    pool = {f'aachen/{n}' for n in names}
    return dict(config=str(config), checkpoint=str(checkpoint), root=root, pool=pool)


def _args(setup, work_dir, out, *extra):
    return [setup['config'], setup['checkpoint'], '--work-dir', str(work_dir),
            '--out', str(out), '--steps', *STEPS, '--student-config', STUDENT_CONFIG,
            '--student-iters', '2', '3', '--batch-size', '4', '--device', 'cpu',
            '--student-cfg-options', 'train_dataloader.batch_size=2',
            'randomness.deterministic=True', *extra]


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/select_annotations.py')


def test_selection_end_to_end_and_resume(selection_setup, tool, monkeypatch):
    monkeypatch.chdir(REPO)
    root = selection_setup['root']
    out = root / 'split.txt'
    state, names = tool.main(_args(selection_setup, root / 'full', out))
    lines = out.read_text().splitlines()
    assert lines == names
    assert len(lines) == int(STEPS[-1]) and len(set(lines)) == len(lines)
    assert set(lines) <= selection_setup['pool']
    # the students were trained at the corrected sizes |G_A| = 3 and 6
    assert sorted(state.student_loss) == [1, 2]
    selections = [(root / 'full' / 'students' / f'step{t}' / 'selection.txt')
                  .read_text().splitlines() for t in (1, 2)]
    assert [len(s) for s in selections] == [3, 6]
    assert selections[1][:3] == selections[0] == lines[:3]
    errors = np.load(root / 'full' / 'students' / 'step1' / 'errors.npy')
    assert errors.shape == (len(selection_setup['pool']), ) and np.all(errors >= 0)
    assert (root / 'full' / 'sde_features_block3.npy').exists()

    # a run stopped right after step 1, then resumed with the same command
    resumed_dir, resumed_out = root / 'resumed', root / 'split_resumed.txt'
    state1, _ = tool.main(_args(selection_setup, resumed_dir, resumed_out,
                                '--stop-after-step', '1'))
    assert state1.step == 1 and len(state1.selected) == 3
    assert not resumed_out.exists()
    saved = json.loads((resumed_dir / 'selection_state.json').read_text())
    assert saved['step'] == 1 and saved['errors_step'] == 0
    tool.main(_args(selection_setup, resumed_dir, resumed_out))
    assert resumed_out.read_text() == out.read_text()
    # rerunning a finished selection reuses the caches and rewrites the same split
    tool.main(_args(selection_setup, resumed_dir, resumed_out))
    assert resumed_out.read_text() == out.read_text()


def test_settings_mismatch_is_refused(selection_setup, tool, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    work = tmp_path / 'work'
    tool.main(_args(selection_setup, work, tmp_path / 'a.txt', '--stop-after-step',
                    '1'))
    with pytest.raises(ValueError, match='seed'):
        tool.main(_args(selection_setup, work, tmp_path / 'a.txt', '--seed', '5'))
