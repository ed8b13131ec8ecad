"""Writing every test prediction to disk (``tools/test.py --out DIR``)."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from mmdepthsem.registry import HOOKS
from mmdepthsem.utils.prediction_io import save_depth_png, save_label_png


@HOOKS.register_module()
class PredictionWriterHook(Hook):
    """Save each test sample's predictions next to each other in ``out_dir``.

    For an input ``.../name.png`` it writes ``name_depth.png`` (uint16 millimetres),
    ``name_depth.npy`` (float32 metres) and ``name_sem.png`` (class ids), for the
    fields the model predicts.

    Args:
        out_dir: Output folder (created on demand).
        save_npy: Also write float depth as ``.npy``.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, save_npy: bool = True) -> None:
        self.out_dir = out_dir
        self.save_npy = save_npy
        self.num_written = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            stem = osp.splitext(osp.basename(sample.metainfo.get(
                'img_path', f'{batch_idx:06d}_{self.num_written:06d}')))[0]
            base = osp.join(self.out_dir, stem)
            if 'pred_depth_map' in sample:
                depth = sample.pred_depth_map.data.detach().cpu().numpy()[0]
                save_depth_png(base + '_depth.png', depth)
                if self.save_npy:
                    np.save(base + '_depth.npy', depth.astype(np.float32))
            if 'pred_sem_seg' in sample:
                save_label_png(base + '_sem.png', sample.pred_sem_seg.data)
            self.num_written += 1

    def after_test(self, runner) -> None:
        runner.logger.info(f'PredictionWriterHook: wrote {self.num_written} '
                           f'predictions to {self.out_dir}')
