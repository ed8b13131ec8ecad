"""DSS Table 3: one config per mixing method, all on the same DSS model."""
import copy
import pathlib

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

REPO = pathlib.Path(__file__).resolve().parents[1]
ABLATIONS = REPO / 'configs' / 'dss' / 'ablations'
TABLE3 = ['baseline', 'cutmix', 'classmix', 'affinemix', 'depthmix', 'cutdepth',
          'vcutdepth', 'nearfarmix']
EXPECTED_AUGMENT = {
    'baseline': None, 'cutmix': 'BatchCutMix', 'classmix': 'BatchClassMix',
    'affinemix': 'BatchAffineMix', 'depthmix': 'BatchDepthMix',
    'cutdepth': 'BatchCutDepth', 'vcutdepth': 'BatchVCutDepth',
    'nearfarmix': 'BatchNearFarMix'}
DEPTH_RANGE = {'nyu': (1.5, 6.5), 'kitti': (20.0, 60.0)}

register_all_modules()


def without_augments(cfg: Config) -> dict:
    model = copy.deepcopy(cfg.model.to_dict())
    model['data_preprocessor'].pop('batch_augments', None)
    return model


def two_samples(max_depth: float):
    """Two packed samples with smooth depth in the dataset's range and labels."""
    packed = []
    for seed in (0, 1):
        rng = np.random.RandomState(seed)
        yy, xx = np.mgrid[0:24, 0:32].astype(np.float32)
        depth = max_depth * (0.05 + 0.9 * (xx / 31 * (seed * 2 - 1) % 1.0))
        depth = np.clip(depth + rng.uniform(0, 0.01, depth.shape), 0.5,
                        max_depth).astype(np.float32)
        packed.append(PackDepthSemInputs()(dict(
            img=rng.randint(0, 256, (24, 32, 3)).astype(np.uint8),
            gt_depth_map=depth,
            gt_pseudo_seg_map=((xx // 8 + yy // 8 + seed) % 5).astype(np.uint8),
            img_path=f's{seed}.png', img_shape=(24, 32), ori_shape=(24, 32))))
    return dict(inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed])


@pytest.mark.parametrize('dataset', ['nyu', 'kitti'])
@pytest.mark.parametrize('method', TABLE3)
def test_table3_config_same_model_and_its_mix_changes_a_seeded_batch(dataset, method):
    main = Config.fromfile(REPO / 'configs' / 'dss' / f'maxvit_{dataset}.py')
    cfg = Config.fromfile(ABLATIONS / f'maxvit_{dataset}_mix_{method}.py')
    # the same model, data and schedule; only the batch augments differ
    assert without_augments(cfg) == without_augments(main)
    for key in ('train_dataloader', 'val_dataloader', 'optim_wrapper',
                'param_scheduler', 'train_cfg'):
        assert cfg[key] == main[key], key
    augments = cfg.model.data_preprocessor.get('batch_augments', [])
    expected = EXPECTED_AUGMENT[method]
    if expected is None:
        assert augments == []
        return
    assert [a['type'] for a in augments] == [expected]
    assert augments[0]['prob'] == 0.5
    if method == 'nearfarmix':
        assert tuple(augments[0]['depth_range']) == DEPTH_RANGE[dataset]
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    plain = MODELS.build(without_augments(cfg)['data_preprocessor'])
    batch = two_samples(max_depth=10.0 if dataset == 'nyu' else 80.0)
    reference = plain(copy.deepcopy(batch), training=True)['inputs']
    changed = False
    for seed in range(8):  # prob 0.5: some seed mixes
        np.random.seed(seed)
        out = preprocessor(copy.deepcopy(batch), training=True)
        changed |= not torch.equal(out['inputs'], reference)
    assert changed, f'{method} never changed the batch'
