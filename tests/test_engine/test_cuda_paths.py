"""The CUDA-only paths (``-m cuda``; skipped without a GPU, run by tools/gpu_check.sh):
an AMP training step with mmengine's AmpOptimWrapper, CUDA SyncBN over an NCCL
process group, and a 1-process NCCL torchrun of tools/train.py with SyncBN."""
import copy
import json
import socket

import pytest
import torch
import torch.distributed as dist
from torch import nn

from ..conftest import DEMO_CONFIG, load_tool, run_tool, small_demo_options

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU'),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_amp_training_step_updates_the_weights(synthetic_nyu):
    bench = load_tool('tools/analysis_tools/benchmark_train.py')
    bench.register_all_modules()
    cfg = bench.load_tool_config(str(DEMO_CONFIG), {
        'train_dataloader.dataset.data_root': str(synthetic_nyu),
        'train_dataloader.dataset.image_size': [96, 64],
        'train_dataloader.dataset.pipeline.4.crop_size': [48, 64]})
    batch = bench.load_batch(cfg, batch_size=2)
    model, wrapper, note = bench.build_training(cfg, 'cuda', amp=True)
    assert 'AmpOptimWrapper' in type(wrapper).__name__, note
    before = [p.detach().clone() for p in model.parameters()]
    log_vars = model.train_step(copy.deepcopy(batch), wrapper)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log_vars.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cuda')


def test_cuda_sync_batchnorm_over_nccl_matches_batchnorm(tmp_path):
    """One NCCL rank: SyncBatchNorm must give BatchNorm's output and gradients."""
    dist.init_process_group('nccl', init_method=f'file://{tmp_path / "init"}',
                            rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        plain = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)).cuda()
        synced = nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(plain)).cuda()
        assert isinstance(synced[1], nn.SyncBatchNorm)
        x = torch.randn(4, 3, 16, 16, device='cuda')
        outs = []
        for model in (plain, synced):
            model.train()
            out = model(x)
            out.square().sum().backward()
            outs.append((out.detach(), model[0].weight.grad.clone()))
        torch.testing.assert_close(outs[1][0], outs[0][0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(outs[1][1], outs[0][1], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(synced[1].running_mean, plain[1].running_mean)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_one_process_nccl_torchrun_trains_with_sync_bn(synthetic_nyu, tmp_path):
    work = tmp_path / 'work'
    result = run_tool(['bash', 'tools/dist_train.sh', str(DEMO_CONFIG), '1',
                       '--work-dir', str(work), '--cfg-options',
                       *small_demo_options(synthetic_nyu, max_iters=2,
                                           checkpoint_interval=2), 'sync_bn=torch'],
                      env=dict(PORT=str(_free_port())))
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    assert "backend='nccl'" in log or "'backend': 'nccl'" in log
    assert (work / 'iter_2.pth').is_file()
    scalars = [json.loads(line) for path in work.rglob('scalars.json')
               for line in path.read_text().splitlines()]
    losses = [s['loss'] for s in scalars if 'loss' in s]
    assert losses and all(torch.isfinite(torch.tensor(v)) for v in losses)
