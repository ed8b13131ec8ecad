"""SDE-Seg's validation schedule (docs/sdeseg.md row 20 / S9) as mmengine runs it.

The released trainer validates after update n when n % interval(n) == 0, interval(n)
the value of the largest key k < n of {0: 100, 100: 2500, step: 500} (``current_val_
interval``), and at the end. mmengine's ``IterBasedTrainLoop`` picks its interval
from ``dynamic_intervals`` by another rule (the last milestone <= n + 1): this test
replays mmengine's own method over every update and compares the two.
"""
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.utils import calc_dynamic_intervals

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def release_interval(schedule, n):
    return next(v for k, v in sorted(schedule.items(), reverse=True) if n > k)


def mmengine_validations(train_cfg):
    loop = SimpleNamespace(_iter=0)
    loop.dynamic_milestones, loop.dynamic_intervals = calc_dynamic_intervals(
        train_cfg.val_interval, train_cfg.get('dynamic_intervals'))
    done = []
    for n in range(1, train_cfg.max_iters + 1):
        loop._iter = n  # run_iter has counted update n
        IterBasedTrainLoop._decide_current_val_interval(loop)
        if n % loop.val_interval == 0 or n == train_cfg.max_iters:
            done.append(n)
    return done


@pytest.mark.parametrize('name, step', [
    ('ssl_ours_resnet101_cityscapes.py', 30000),
    ('ssl_baseline_resnet101_cityscapes.py', 30000),
    ('ssda_gta5_to_cityscapes_resnet101.py', 30000),
    ('ssl_ours_resnet101_camvid.py', 15000)])
def test_validation_iterations_follow_the_release(name, step):
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name))
    schedule = {0: 100, 100: 2500, step: 500}
    expected = [n for n in range(1, cfg.train_cfg.max_iters + 1)
                if n % release_interval(schedule, n) == 0
                or n == cfg.train_cfg.max_iters]
    got = mmengine_validations(cfg.train_cfg)
    assert got == expected
    assert got[:3] == [100, 2500, 5000]
    assert step in got and step + 500 in got and step + 1000 in got
    assert step - 500 not in got  # still every 2500 before the step
    assert got[-1] == cfg.train_cfg.max_iters
    assert cfg.param_scheduler[0].milestones == [step]
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'


def test_camvid_schedule_is_the_releases():
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg/ssl_ours_resnet101_camvid.py'))
    assert cfg.train_cfg.max_iters == 20000


def test_demo_keeps_a_single_validation():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/sdeseg/demo/ssl_depthmix_resnet18_synthetic.py'))
    assert mmengine_validations(cfg.train_cfg) == [cfg.train_cfg.max_iters]
