"""A visualiser that draws one data sample as a row of depth and segmentation panels."""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.structures import PixelData
from mmengine.visualization import Visualizer
from mmseg.utils import get_classes, get_palette

from mmdepthsem.registry import VISUALIZERS
from mmdepthsem.utils.prediction_io import to_numpy_map
from .colormap import (colorize_depth, default_palette, depth_value_range,
                       overlay_sem_seg, resize_nearest)


@VISUALIZERS.register_module()
class DepthSemLocalVisualizer(Visualizer):
    """Draws image | predicted depth | ground-truth depth | predicted segmentation |
    ground-truth segmentation side by side in one picture.

    A panel is left out when its field is absent from the data sample (or ``draw_gt`` /
    ``draw_pred`` turns it off), so the picture is ``n_panels * W`` pixels wide, plus
    ``title_height`` rows of titles on top when ``draw_titles``. Every panel has the
    image's size ``(H, W)``; fields of another size are resized nearest-neighbour.

    Both depth panels of a sample share one colour range: ``depth_range`` if given, else
    the valid ground truth's ``(min, max)``, else the prediction's. Invalid ground-truth
    pixels (``0``) are black. Segmentation panels blend the dataset palette over the
    image with opacity ``alpha``; ignored pixels (``ignore_index``) show the image.

    Unlike mmengine's visualisers, ``dataset_meta`` is kept on every rank and a picture
    with ``out_file`` is written on every rank, so distributed tests write one picture
    per image; pictures without ``out_file`` go to the vis backends of rank 0 only.

    Args:
        name: Instance name (mmengine ``ManagerMixin``).
        image: Optional initial image, ``(H, W, 3)`` RGB.
        vis_backends: Vis backend configs, e.g. ``[dict(type='LocalVisBackend')]``.
        save_dir: Root directory of the vis backends.
        classes: Class names; default from ``dataset_name`` or the dataset's metainfo.
        palette: RGB per class; default from ``dataset_name`` or the dataset's metainfo,
            else a fixed pseudo-random palette.
        dataset_name: An mmseg dataset name whose classes and palette to use.
        alpha: Opacity of segmentation colours, ``[0, 1]``.
        depth_cmap: matplotlib colour map of the depth panels.
        depth_range: Fixed ``(vmin, vmax)`` of the depth colours, metres.
        ignore_index: Label value left uncoloured.
        draw_titles: Write a title above each panel.
        title_height: Height of the title strip in pixels; ``None`` scales it with
            the image (at least 16).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[Dict]] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 0.5,
                 depth_cmap: str = 'turbo',
                 depth_range: Optional[Tuple[float, float]] = None,
                 ignore_index: int = 255,
                 draw_titles: bool = True,
                 title_height: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(name, image, vis_backends, save_dir, **kwargs)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}.')
        if depth_range is not None and not depth_range[0] < depth_range[1]:
            raise ValueError(f'depth_range must be (vmin, vmax) with vmin < vmax, got '
                             f'{depth_range}.')
        self.alpha = alpha
        self.depth_cmap = depth_cmap
        self.depth_range = tuple(depth_range) if depth_range is not None else None
        self.ignore_index = ignore_index
        self.draw_titles = draw_titles
        self.title_height = title_height
        meta = {}
        if dataset_name is not None:
            meta = dict(classes=get_classes(dataset_name),
                        palette=get_palette(dataset_name))
        if classes is not None:
            meta['classes'] = list(classes)
        if palette is not None:
            meta['palette'] = [list(c) for c in palette]
        self._dataset_meta = meta or None

    # mmengine's property is master-only; pictures are drawn on every rank here.
    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta information of the dataset (``classes``, ``palette``)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta

    def _palette(self) -> np.ndarray:
        palette = (self._dataset_meta or {}).get('palette')
        if palette is None or len(palette) == 0:
            return default_palette()
        return np.asarray(palette, dtype=np.uint8).reshape(-1, 3)

    @staticmethod
    def _field(data_sample, key: str) -> Optional[np.ndarray]:
        """The ``(H, W)`` numpy array of a pixel field, or ``None`` if absent."""
        if data_sample is None or key not in data_sample:
            return None
        data = data_sample.get(key)
        if isinstance(data, PixelData):
            data = data.data
        elif isinstance(data, dict):
            data = data['data']
        return to_numpy_map(data, key)

    def _title_strip(self, text: str, width: int, height: int) -> np.ndarray:
        strip = np.full((height, width, 3), 32, dtype=np.uint8)
        scale = height / 32
        thickness = 1 if height < 40 else 2
        baseline = int(round(height * 0.75))
        cv2.putText(strip, text, (3, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
        return strip

    def draw_panels(self,
                    image: np.ndarray,
                    data_sample=None,
                    draw_gt: bool = True,
                    draw_pred: bool = True) -> List[Tuple[str, np.ndarray]]:
        """The panels of one sample, without titles.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` grey).
            data_sample: A :class:`DepthSemDataSample` (or a dict of the same fields).
            draw_gt: Include the ground-truth panels.
            draw_pred: Include the prediction panels.

        Returns:
            ``[(title, (H, W, 3) uint8 RGB), ...]`` in display order.
        """
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = image.astype(np.uint8)
        size = image.shape[:2]

        def fetch(key: str, wanted: bool) -> Optional[np.ndarray]:
            data = self._field(data_sample, key) if wanted else None
            return None if data is None else resize_nearest(data, size)

        pred_depth = fetch('pred_depth_map', draw_pred)
        gt_depth = fetch('gt_depth_map', draw_gt)
        pred_seg = fetch('pred_sem_seg', draw_pred)
        gt_seg = fetch('gt_sem_seg', draw_gt)

        if self.depth_range is not None:
            value_range = self.depth_range
        else:
            value_range = None
            for depth in (gt_depth, pred_depth):
                if depth is not None and value_range is None:
                    value_range = depth_value_range(depth)
            value_range = value_range or (0.0, 1.0)
        vmin, vmax = value_range
        span = f'{vmin:.2f}-{vmax:.2f} m'

        panels = [('image', image)]
        if pred_depth is not None:
            panels.append((f'pred depth {span}',
                           colorize_depth(pred_depth, vmin, vmax, self.depth_cmap)))
        if gt_depth is not None:
            panels.append((f'gt depth {span}',
                           colorize_depth(gt_depth, vmin, vmax, self.depth_cmap)))
        palette = self._palette()
        if pred_seg is not None:
            panels.append(('pred seg', overlay_sem_seg(image, pred_seg, palette,
                                                       self.alpha, self.ignore_index)))
        if gt_seg is not None:
            panels.append(('gt seg', overlay_sem_seg(image, gt_seg, palette, self.alpha,
                                                     self.ignore_index)))
        return panels

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw a sample as one row of panels; show it, write it, or send it to the
        vis backends.

        Args:
            name: Image identifier (window title, backend image name).
            image: ``(H, W, 3)`` uint8 RGB.
            data_sample: :class:`DepthSemDataSample` with any of ``pred_depth_map``,
                ``gt_depth_map`` (``(1, H, W)`` metres), ``pred_sem_seg``,
                ``gt_sem_seg`` (``(1, H, W)`` class ids).
            draw_gt: Draw the ground-truth panels.
            draw_pred: Draw the prediction panels.
            show: Display the picture (rank 0 only).
            wait_time: Seconds to display it; ``0`` waits for a key.
            out_file: Write the picture to this PNG (on any rank) instead of the vis
                backends.
            step: Global step recorded by the vis backends.

        Returns:
            The picture, ``(H [+ title_height], n_panels * W, 3)`` uint8 RGB.
        """
        panels = self.draw_panels(image, data_sample, draw_gt, draw_pred)
        height, width = panels[0][1].shape[:2]
        if self.draw_titles:
            title_height = self.title_height or max(16, int(round(height * 0.06)))
            panels = [(title, np.concatenate(
                [self._title_strip(title, width, title_height), panel], axis=0))
                      for title, panel in panels]
        drawn = np.concatenate([panel for _, panel in panels], axis=1)
        self.set_image(drawn)
        if show:  # Visualizer.show runs on rank 0 only
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            if not mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file):
                raise OSError(f'Could not write the visualisation to {out_file}.')
        else:
            self.add_image(name, drawn, step)
        return drawn
