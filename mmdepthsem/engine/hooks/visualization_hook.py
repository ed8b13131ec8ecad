"""Draw validation and test predictions (depth and segmentation) with the visualiser."""
import os.path as osp
import warnings
from typing import Optional, Sequence, Set

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer

from mmdepthsem.registry import HOOKS


@HOOKS.register_module()
class DepthSemVisualizationHook(Hook):
    """Draws predictions next to their ground truth during validation and testing.

    - Validation, and testing without ``test_out_dir``: every ``interval``-th batch, each
      sample of the batch is drawn by the runner's visualiser and sent to its vis
      backends (``val_<image name>`` / ``test_<image name>`` at the current iteration),
      as mmseg's ``SegVisualizationHook`` does.
    - Testing with ``test_out_dir``: every image is written to
      ``test_out_dir/<image stem>.png`` (one PNG per image, on every rank). A relative
      ``test_out_dir`` is placed under ``runner.work_dir/runner.timestamp``, like mmdet's
      ``test_out_dir`` and the ``--show-dir`` help of mmseg's ``tools/test.py``.
      ``tools/test.py --show-dir DIR`` sets
      ``cfg.default_hooks.visualization.update(draw=True, test_out_dir=DIR)``.

    The image is read from the sample's ``img_path`` (original resolution, RGB); without
    one it is taken from the batch's ``inputs`` (BGR, network resolution) and resized to
    the prediction.

    Args:
        draw: Draw anything at all; ``False`` turns the hook off (``tools/test.py``
            switches it on).
        interval: Draw every ``interval``-th validation (or backend test) batch.
        show: Display pictures in a window instead of storing them in the vis backends.
        wait_time: Seconds each displayed picture stays; ``0`` waits for a key.
        test_out_dir: Directory of the per-image test pictures.
        keep_dirs: Number of parent folders of ``img_path`` kept as sub-folders in
            ``test_out_dir``, for datasets whose file names repeat across folders
            (KITTI: ``keep_dirs=3`` gives ``<drive>/image_02/data/<frame>.png``).
        draw_gt: Draw the ground-truth panels.
        draw_pred: Draw the prediction panels.
        backend_args: mmengine file-backend arguments for reading images.
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 test_out_dir: Optional[str] = None,
                 keep_dirs: int = 0,
                 draw_gt: bool = True,
                 draw_pred: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}.')
        if keep_dirs < 0:
            raise ValueError(f'keep_dirs must be >= 0, got {keep_dirs}.')
        self.draw = draw
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self.keep_dirs = keep_dirs
        self.draw_gt = draw_gt
        self.draw_pred = draw_pred
        self.backend_args = backend_args.copy() if backend_args else None
        self._resolved_out_dir: Optional[str] = None
        self._written: Set[str] = set()
        self._warned_fallback = False
        if not draw:
            warnings.warn('DepthSemVisualizationHook(draw=False) draws nothing; '
                          'tools/test.py --show-dir turns it on.')

    def _visualizer(self, runner) -> Visualizer:
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is None:
            visualizer = Visualizer.get_current_instance()
        if self.show:
            # Shown pictures are not stored, as in mmseg's hook.
            visualizer._vis_backends = {}
        return visualizer

    def _out_dir(self, runner) -> str:
        if self._resolved_out_dir is None:
            out_dir = self.test_out_dir
            if not osp.isabs(out_dir):
                out_dir = osp.join(runner.work_dir, runner.timestamp, out_dir)
            mkdir_or_exist(out_dir)
            print_log(f'Test visualisations are written to {out_dir}', logger='current')
            self._resolved_out_dir = out_dir
        return self._resolved_out_dir

    def _out_name(self, img_path: Optional[str], fallback: str) -> str:
        """Relative PNG path of one image, unique within this process."""
        if img_path:
            parts = osp.normpath(img_path).replace('\\', '/').split('/')
            stem = osp.splitext(parts[-1])[0]
            parents = [p for p in parts[:-1] if p not in ('', '.', '..')]
            kept = parents[-self.keep_dirs:] if self.keep_dirs else []
            name = '/'.join(kept + [stem])
        else:
            name = fallback
        unique, k = name, 0
        while unique in self._written:
            k += 1
            unique = f'{name}_{k}'
        if k == 1:
            warnings.warn(f'Several test images are named {name!r}; their pictures get '
                          'suffixes _1, _2, ... Set keep_dirs of '
                          'DepthSemVisualizationHook to keep their folders instead.')
        self._written.add(unique)
        return unique + '.png'

    def _load_image(self, img_path: Optional[str], data_batch: Optional[dict],
                    index: int, output) -> np.ndarray:
        """``(H, W, 3)`` uint8 RGB of one sample."""
        if img_path:
            try:
                img_bytes = fileio.get(img_path, backend_args=self.backend_args)
                return mmcv.imfrombytes(img_bytes, channel_order='rgb')
            except OSError:  # FileNotFoundError included
                pass
        inputs = None if data_batch is None else data_batch.get('inputs')
        if inputs is None:
            raise FileNotFoundError(
                f'DepthSemVisualizationHook cannot read image {img_path!r} and the batch '
                'holds no inputs to draw instead.')
        if not self._warned_fallback:
            warnings.warn(f'DepthSemVisualizationHook cannot read {img_path!r}; drawing '
                          "the network input from the batch's inputs instead.")
            self._warned_fallback = True
        image = inputs[index].detach().cpu().numpy()  # (3, H, W) BGR
        image = np.ascontiguousarray(image.transpose(1, 2, 0)[..., ::-1])
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        for key in ('pred_depth_map', 'pred_sem_seg', 'gt_depth_map', 'gt_sem_seg'):
            if key in output:
                height, width = getattr(output, key).data.shape[-2:]
                return mmcv.imresize(image, (int(width), int(height)))
        return image

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: Optional[dict] = None,
                    outputs: Optional[Sequence] = None,
                    mode: str = 'val') -> None:
        """Draw the outputs of one validation or test batch.

        Args:
            runner: The runner; reads ``visualizer``, ``iter`` and, with
                ``test_out_dir``, ``work_dir`` and ``timestamp``.
            batch_idx: Index of the batch in the loop.
            data_batch: The batch from the data loader.
            outputs: The model's :class:`DepthSemDataSample` outputs.
            mode: ``'val'`` or ``'test'``; nothing is drawn in ``'train'``.
        """
        if not self.draw or mode == 'train' or not outputs:
            return
        to_files = mode == 'test' and self.test_out_dir is not None
        if not to_files and not self.every_n_inner_iters(batch_idx, self.interval):
            return
        visualizer = self._visualizer(runner)
        for index, output in enumerate(outputs):
            img_path = output.metainfo.get('img_path')
            image = self._load_image(img_path, data_batch, index, output)
            fallback = f'batch{batch_idx:06d}_{index:03d}'
            window_name = f'{mode}_{osp.basename(img_path) if img_path else fallback}'
            out_file = None
            if to_files:
                out_file = osp.join(self._out_dir(runner),
                                    self._out_name(img_path, fallback))
            visualizer.add_datasample(
                window_name,
                image,
                data_sample=output,
                draw_gt=self.draw_gt,
                draw_pred=self.draw_pred,
                show=self.show,
                wait_time=self.wait_time,
                out_file=out_file,
                step=runner.iter)
