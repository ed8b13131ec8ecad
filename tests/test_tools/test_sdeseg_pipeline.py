"""SDE-Seg end to end through the real tools: split file, SSL and SSDA training runs."""
import json
import sys

import pytest

from ..conftest import run_tool

DEMO = 'configs/sdeseg/demo'


@pytest.fixture(scope='module')
def street_sets(tmp_path_factory):
    """A tiny synthetic Cityscapes set (8 train frames with neighbours -1, +1, 2 val)
    and a tiny GTA5-layout set, 64x128."""
    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig
    from mmdepthsem.datasets.synthetic.gta5_format import GTA5Config

    root = tmp_path_factory.mktemp('sdeseg')
    generate_dataset('cityscapes', str(root), seed=0, config=CityscapesConfig(
        height=64, width=128, train_cities=('aachen', ), val_cities=('frankfurt', ),
        train_sequences_per_city=8, val_sequences_per_city=2,
        sequence_offsets=(-1, 0, 1)))
    generate_dataset('gta5', str(root), seed=0,
                     config=GTA5Config(height=64, width=116, num_images=4))
    return root


def small_options(root, split):
    return [
        f'train_dataloader.dataset.labelled.data_root={root}/cityscapes',
        f'train_dataloader.dataset.labelled.subset_file={split}',
        f'train_dataloader.dataset.unlabelled.data_root={root}/cityscapes',
        'train_dataloader.dataset.labelled.pipeline.3.crop_size=[64,64]',
        'train_dataloader.dataset.unlabelled.pipeline.3.crop_size=[64,64]',
        f'val_dataloader.dataset.data_root={root}/cityscapes',
        f'test_dataloader.dataset.data_root={root}/cityscapes',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=2',
    ]


def logged(work_dir):
    """The training records of the run's ``scalars.json``."""
    [path] = list(work_dir.glob('*/vis_data/scalars.json'))
    return [json.loads(line) for line in path.read_text().splitlines()
            if 'loss' in line]


def test_split_then_depthmix_training_logs_q_prime_and_mixing(street_sets, tmp_path):
    root = street_sets
    split = tmp_path / 'labelled.txt'
    config = f'{DEMO}/ssl_depthmix_resnet18_synthetic.py'
    options = [f'train_dataloader.dataset.labelled.data_root={root}/cityscapes']
    run_tool([sys.executable, 'tools/make_subset_split.py', config, '--num', '3',
              '--seed', '1', '--out', str(split), '--cfg-options', *options])
    names = split.read_text().split()
    assert len(names) == len(set(names)) == 3
    assert all(n.startswith('aachen/aachen_') for n in names)
    # another seed, another split; too many is refused
    other = tmp_path / 'other.txt'
    run_tool([sys.executable, 'tools/make_subset_split.py', config, '--num', '3',
              '--seed', '2', '--out', str(other), '--cfg-options', *options])
    assert other.read_text() != split.read_text()
    bad = run_tool([sys.executable, 'tools/make_subset_split.py', config, '--num',
                    '99', '--out', str(other), '--cfg-options', *options], check=False)
    assert bad.returncode == 1 and '1..8' in bad.stderr

    work_dir = tmp_path / 'ssl'
    run_tool([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
              '--cfg-options', *small_options(root, split)],
             env=dict(OMP_NUM_THREADS='1'))
    records = logged(work_dir)
    assert len(records) == 2
    for record in records:
        # the pool's images pair with each other; q' over the batch is 0 when
        # neither is labelled and the young teacher is below tau everywhere
        assert 0 <= record['q_prime'] <= 1 and 0 < record['mix_ratio'] < 1
        for key in ('loss_sem', 'loss_sem_unlabelled', 'loss_photometric'):
            assert record[key] == record[key] and record[key] >= 0  # finite, not NaN
    assert (work_dir / 'iter_2.pth').is_file()


def test_domain_adaptation_adds_source_and_cross_domain_mixing(street_sets, tmp_path):
    root = street_sets
    split = tmp_path / 'labelled.txt'
    split.write_text('aachen/aachen_000000_000019\naachen/aachen_000003_000019\n')
    work_dir = tmp_path / 'ssda'
    run_tool([sys.executable, 'tools/train.py', f'{DEMO}/ssda_gta5_resnet18_synthetic.py',
              '--work-dir', str(work_dir), '--cfg-options', *small_options(root, split),
              f'train_dataloader.dataset.source.data_root={root}/gta5',
              f'train_dataloader.dataset.source.pipeline.2.estimate_dir={root}/gta5/sde_depth',
              'train_dataloader.dataset.source.pipeline.3.scale=[116,64]',
              'train_dataloader.dataset.source.pipeline.4.crop_size=[64,64]'],
             env=dict(OMP_NUM_THREADS='1'))
    for record in logged(work_dir):
        assert record['loss_sem_source'] > 0 and record['loss_sem_cross_domain'] >= 0
        # source pixels are certain (P = 1), the young teacher is not; target
        # pixels of the pool's labelled images are (their ground truth): q'_CDM is
        # at least the share of source pixels in the cross-domain mix
        assert record['q_prime_cross_domain'] >= \
            1 - record['mix_ratio_cross_domain'] - 1e-4
