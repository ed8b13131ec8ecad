import os
import pathlib
import random
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader

from mmdepthsem.utils import (UnsafeCheckpointError, atomic_write_bytes,
                              load_checkpoint_weights_only)
from mmdepthsem.utils.resume import find_resumable_checkpoint

REPO = pathlib.Path(__file__).resolve().parents[2]


class _WritesMarker:
    """Unpickling this runs ``open(marker, 'w')`` -- what an attacker would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def _typical_checkpoint():
    hub = MessageHub.get_instance('ckpt_test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 3)
    return dict(
        meta=dict(epoch=0, iter=3, seed=np.int64(7), dataset_meta=dict(
            classes=('a', 'b'), palette=[[0, 0, 0], [1, 1, 1]])),
        state_dict={'w': torch.randn(2, 2)},
        message_hub=hub.state_dict(),
        optimizer=dict(state={0: dict(exp_avg=torch.zeros(2))},
                       param_groups=[dict(lr=1e-3, betas=(0.9, 0.999), params=[0])]),
        param_schedulers=[dict(last_epoch=3, base_lrs=[1e-3])],
        history=HistoryBuffer([1.0, 2.0], [1, 1]),
        rng_state=dict(python=random.getstate(), numpy=np.random.get_state(),
                       torch=torch.get_rng_state()),
        arrays=dict(f32=np.ones(3, np.float32), i64=np.arange(2), scalar=np.float32(2.5),
                    flag=np.bool_(True)),
    )


def test_mmengine_types_load_weights_only(tmp_path):
    path = tmp_path / 'ok.pth'
    ckpt = _typical_checkpoint()
    torch.save(ckpt, path)
    loaded = load_checkpoint_weights_only(path)
    assert torch.equal(loaded['state_dict']['w'], ckpt['state_dict']['w'])
    assert isinstance(loaded['history'], HistoryBuffer)
    assert loaded['history'].mean() == 1.5
    assert loaded['arrays']['scalar'] == np.float32(2.5)
    np.testing.assert_array_equal(loaded['rng_state']['numpy'][1],
                                  ckpt['rng_state']['numpy'][1])
    assert loaded['meta']['seed'] == 7
    # mmengine's own loading path goes through the same weights-only loader
    via_mmengine = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(via_mmengine['state_dict']['w'], ckpt['state_dict']['w'])


def test_malicious_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'pwned.txt'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _WritesMarker(marker)}, path)
    for load in (lambda: load_checkpoint_weights_only(path),
                 lambda: CheckpointLoader.load_checkpoint(str(path), 'cpu')):
        with pytest.raises(UnsafeCheckpointError) as err:
            load()
        assert 'open' in str(err.value) and str(path) in str(err.value)
        assert not marker.exists()


class _GetattrEscape:
    """Reaches for a non-statistics attribute through the getattr stand-in."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'escape.pth'
    torch.save({'x': _GetattrEscape()}, path)
    with pytest.raises(UnsafeCheckpointError, match='getattr'):
        load_checkpoint_weights_only(path)
    # the legitimate use: a history buffer with its statistics methods
    buffer = HistoryBuffer([1.0, 3.0], [1, 1])
    torch.save({'b': buffer}, path)
    assert load_checkpoint_weights_only(path)['b'].mean() == 2.0


def test_no_weights_only_false_anywhere():
    needle = 'weights_only=' + 'False'  # spelled apart so this file does not match
    offenders = []
    for folder in ('mmdepthsem', 'tools', 'configs', 'projects', 'demo'):
        for path in (REPO / folder).rglob('*.py'):
            text = path.read_text()
            if needle in text.replace(' ', ''):
                offenders.append(str(path))
    assert offenders == []


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / 'ckpt.pth'
    atomic_write_bytes(b'old', target)

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new' * 1000, target)
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pth']


_WRITER = '''
import sys
from mmdepthsem.utils.checkpoint import atomic_write_bytes
path = sys.argv[1]
i = 0
print('ready', flush=True)
while True:
    i += 1
    # each version is a self-describing block: 8 MB of one repeated byte
    atomic_write_bytes(bytes([i % 251]) * (8 << 20), path)
'''


def test_sigkill_during_writes_never_leaves_a_torn_file(tmp_path):
    target = tmp_path / 'ckpt.bin'
    env = dict(os.environ, PYTHONPATH=str(REPO))
    rng = random.Random(0)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, '-c', _WRITER, str(target)],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b'ready'
        time.sleep(0.3 + rng.random() * 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert len(data) == 8 << 20
        assert data.count(data[:1]) == len(data)  # one version, not a mix


def test_find_resumable_checkpoint_skips_truncated_files(tmp_path):
    good = tmp_path / 'iter_4.pth'
    torch.save({'x': 1}, good)
    newest = tmp_path / 'iter_6.pth'
    newest.write_bytes(good.read_bytes()[:50])  # torn write from a killed run
    assert not zipfile.is_zipfile(newest)
    (tmp_path / 'last_checkpoint').write_text(str(newest))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    (tmp_path / 'last_checkpoint').write_text(str(good))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    assert find_resumable_checkpoint(str(tmp_path / 'empty')) is None


def test_torn_writes_are_removed_and_complete_files_kept(tmp_path):
    from mmdepthsem.utils.resume import remove_torn_writes
    atomic_write_bytes(b'complete', tmp_path / 'iter_2.pth')
    torn = tmp_path / '.iter_4.pth.k3j9x_a1.tmp'
    torn.write_bytes(b'half')
    other = tmp_path / '.hidden_notes.txt'
    other.write_text('not a temporary checkpoint')
    assert remove_torn_writes(str(tmp_path)) == [str(torn)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        '.hidden_notes.txt', 'iter_2.pth']
    assert remove_torn_writes(str(tmp_path)) == []
