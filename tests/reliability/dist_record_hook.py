"""A test hook that records what each rank trains on and the rank-mean losses.

Loaded through ``custom_imports`` by ``dist_equivalence_config.py``; used by
``test_distributed_equivalence.py``.
"""
import json
import os.path as osp

import torch
from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdepthsem.registry import HOOKS


@HOOKS.register_module()
class DistEquivalenceRecordHook(Hook):
    """Write ``dist_record.json`` and the final weights ``final_weights.pth`` (no
    optimizer state, quicker than a checkpoint) to the work dir after training.

    Per iteration it holds, gathered from every rank: the file names of the rank's
    batch, the rank's loss values, its count of ignored (255) label pixels, and the
    mean of each loss over the ranks (what one process with the union of the
    batches should log when the losses average correctly).
    """

    def __init__(self) -> None:
        self.records = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        samples = data_batch['data_samples']
        names = [osp.basename(s.metainfo['img_path']) for s in samples]
        ignored = int(sum(int((s.gt_sem_seg.data == 255).sum()) for s in samples))
        losses = {k: float(v) for k, v in outputs.items() if 'loss' in k}
        gathered = all_gather_object(dict(names=names, ignored=ignored,
                                          losses=losses))
        mean = {k: sum(g['losses'][k] for g in gathered) / get_world_size()
                for k in losses}
        self.records.append(dict(iter=runner.iter + 1, ranks=gathered,
                                 mean_losses=mean))

    def after_train(self, runner) -> None:
        if is_main_process():
            model = runner.model.module if is_model_wrapper(runner.model) \
                else runner.model
            torch.save(model.state_dict(), osp.join(runner.work_dir,
                                                    'final_weights.pth'))
            with open(osp.join(runner.work_dir, 'dist_record.json'), 'w') as f:
                json.dump(dict(world_size=get_world_size(),
                               torch_threads=torch.get_num_threads(),
                               records=self.records), f, indent=1)
