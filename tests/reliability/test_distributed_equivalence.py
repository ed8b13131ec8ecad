"""Two CPU processes (gloo) train like one process with the same total batch.

``bash tools/dist_train.sh CONFIG 2`` with batch ``b`` per process and SyncBN is
compared with ``tools/train.py`` and batch ``2b``, both seeded alike, on the demo
config (``dist_equivalence_config.py``: no random augmentation, a recording hook).
"""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from mmdepthsem.engine.cpu_sync_batchnorm import CPUSyncBatchNorm
from mmdepthsem.utils import load_checkpoint_weights_only

from ..conftest import REPO, small_demo_options
from .gloo_workers import leave_gloo_worker

CONFIG = REPO / 'tests' / 'reliability' / 'dist_equivalence_config.py'
ITERS = 4
PER_RANK_BATCH = 2

# Tolerances (measured on 2 CPU cores: losses 5e-7, weights 1e-5; see the test).
LOSS_ATOL = 1e-5
WEIGHT_ATOL = 1e-4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _start(args, env=None):
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHON=sys.executable,
               OMP_NUM_THREADS='1', **(env or {}))
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(proc, timeout=300):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f'{proc.args} failed:\n{out[-6000:]}'
    return out


def _options(data_root, batch_size):
    # the demo options without the validation/test loaders (the config drops them)
    # and without the random crop (the config's pipeline has none)
    keep = [o for o in small_demo_options(data_root, ITERS, ITERS)
            if not o.startswith(('val_', 'test_', 'train_dataloader.dataset.pipeline'))]
    # the recording hook writes the final weights; no checkpoint (optimizer state)
    return keep + [f'train_dataloader.batch_size={batch_size}',
                   'default_hooks.checkpoint=None']


@pytest.mark.slow
def test_two_processes_train_like_one_with_the_whole_batch(synthetic_nyu, tmp_path):
    """Per-iteration losses (mean over ranks) and the final weights agree.

    What is made equal: the sampler gives rank ``r`` the items ``perm[r::2]`` of the
    single process's stream, so the union of the ranks' step-t batches is the single
    process's step-t batch (checked from the recorded file names); augmentation is
    off; SyncBN (``sync_bn='torch'``, run on CPU by ``CPUSyncBatchNorm``) normalises
    over both ranks' images; the SILog loss is a mean over images and the
    cross-entropy a mean over all pixels (``avg_non_ignore=False``), so the mean of
    the ranks' losses -- which DDP's gradient averaging differentiates -- is the
    whole-batch loss. With the demo's ``avg_non_ignore=True`` each rank divides by
    its own count of labelled pixels and the gradient differs whenever the ranks'
    ignored-pixel counts differ (they do here: 0 vs 695 at step 1), which is
    inherent to mmseg's per-rank ``avg_factor``, not a launcher bug.

    What is left: float summation order (gradient all-reduce of two halves vs one
    batch, SyncBN's two-pass statistics vs ``F.batch_norm``), about 1e-7 relative.
    Losses get ``LOSS_ATOL`` = 1e-5 (measured max 5e-7 on losses of about 6).
    AdamW divides each step by the gradient's RMS, so a parameter whose gradient is
    at rounding level moves by up to the step size (lr <= 1e-4 in the warm-up, 4
    steps) in either run; weights get ``WEIGHT_ATOL`` = 1e-4 (measured max 1e-5).
    Without SyncBN the step-1 losses already differ by far more (see the report).
    """
    one_dir, two_dir = tmp_path / 'one', tmp_path / 'two'
    two = _start(['bash', 'tools/dist_train.sh', str(CONFIG), '2', '--work-dir',
                  str(two_dir), '--cfg-options',
                  *_options(synthetic_nyu, PER_RANK_BATCH), 'sync_bn=torch'],
                 env=dict(PORT=str(_free_port())))
    one = _start([sys.executable, 'tools/train.py', str(CONFIG), '--work-dir',
                  str(one_dir), '--cfg-options',
                  *_options(synthetic_nyu, 2 * PER_RANK_BATCH)])
    _finish(one)
    log = _finish(two)
    assert 'GPU number: 2' in log  # mmengine's name for the world size

    single = json.loads((one_dir / 'dist_record.json').read_text())
    double = json.loads((two_dir / 'dist_record.json').read_text())
    assert (single['world_size'], double['world_size']) == (1, 2)
    assert len(single['records']) == len(double['records']) == ITERS
    seen = set()
    for s, d in zip(single['records'], double['records']):
        whole = s['ranks'][0]['names']
        halves = [r['names'] for r in d['ranks']]
        assert all(len(h) == PER_RANK_BATCH for h in halves)
        # DefaultSampler/InfiniteSampler interleave: rank r gets items r, r+2, ...
        assert halves == [whole[0::2], whole[1::2]], (s['iter'], whole, halves)
        seen.update(whole)
        assert s['mean_losses'].keys() == d['mean_losses'].keys()
        for key, value in s['mean_losses'].items():
            assert d['mean_losses'][key] == pytest.approx(value, abs=LOSS_ATOL), \
                (s['iter'], key)
    assert len(seen) == 8  # every training frame was used

    ref = load_checkpoint_weights_only(one_dir / 'final_weights.pth')
    got = load_checkpoint_weights_only(two_dir / 'final_weights.pth')
    assert ref.keys() == got.keys()
    diffs = {k: (ref[k].double() - got[k].double()).abs().max().item() for k in ref
             if ref[k].is_floating_point()}
    worst = max(diffs, key=diffs.get)
    print(f'max |loss diff| over {ITERS} iterations: ' + str(max(
        abs(s['mean_losses'][k] - d['mean_losses'][k])
        for s, d in zip(single['records'], double['records'])
        for k in s['mean_losses'])) + f'; max |weight diff|: {diffs[worst]:.3g} '
        f'({worst})')
    assert diffs[worst] <= WEIGHT_ATOL, (worst, diffs[worst])


def _sync_bn_worker(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=2)
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, 6) * 3 + 1
    weights = torch.randn(4, 3, 5, 6)
    bn = CPUSyncBatchNorm(3, momentum=0.3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    local = x[2 * rank:2 * rank + 2].clone().requires_grad_()
    out = bn(local)
    (out * weights[2 * rank:2 * rank + 2]).sum().backward()
    grads = torch.cat([bn.weight.grad, bn.bias.grad])
    dist.all_reduce(grads)
    torch.save(dict(out=out.detach(), x_grad=local.grad, grads=grads,
                    running_mean=bn.running_mean, running_var=bn.running_var),
               f'{out_dir}/rank{rank}.pt')
    leave_gloo_worker()


def test_cpu_sync_batchnorm_matches_one_batchnorm_over_the_whole_batch(tmp_path):
    # fork: spawned children would re-import this module and mmdepthsem (slow)
    mp.start_processes(_sync_bn_worker, args=(str(tmp_path / 'init'), str(tmp_path)),
                       nprocs=2, join=True, start_method='fork')
    torch.manual_seed(0)
    x = (torch.randn(4, 3, 5, 6) * 3 + 1).requires_grad_()
    weights = torch.randn(4, 3, 5, 6)
    ref = nn.BatchNorm2d(3, momentum=0.3)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 2)
        ref.bias.uniform_(-1, 1)
    out = ref(x)
    (out * weights).sum().backward()
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    torch.testing.assert_close(torch.cat([r['out'] for r in ranks]), out.detach())
    torch.testing.assert_close(torch.cat([r['x_grad'] for r in ranks]), x.grad)
    for r in ranks:
        torch.testing.assert_close(r['grads'], torch.cat([ref.weight.grad,
                                                          ref.bias.grad]))
        torch.testing.assert_close(r['running_mean'], ref.running_mean)
        torch.testing.assert_close(r['running_var'], ref.running_var)


def test_sync_batchnorm_conversion_keeps_parameters_and_state_dict():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sequential(nn.SyncBatchNorm(4)))
    bn = model[1][0]
    with torch.no_grad():
        bn.running_mean.fill_(0.5)
    weight, state = bn.weight, {k: v.clone() for k, v in model.state_dict().items()}
    converted = CPUSyncBatchNorm.from_sync_batchnorm(model)
    assert isinstance(converted[1][0], CPUSyncBatchNorm)
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in converted.modules())
    assert converted[1][0].weight is weight  # optimizers/DDP keep their references
    assert converted.state_dict().keys() == state.keys()
    for key, value in converted.state_dict().items():
        assert torch.equal(value, state[key])
    # outside a process group it normalises like BatchNorm2d
    x = torch.randn(2, 4, 3, 3)
    reference = nn.BatchNorm2d(4)
    reference.load_state_dict(converted[1][0].state_dict())
    torch.testing.assert_close(converted[1][0](x), reference(x))
