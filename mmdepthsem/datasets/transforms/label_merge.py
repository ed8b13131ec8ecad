"""Ground-truth labels where a dataset has them, offline pseudo-labels elsewhere."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthsem.registry import TRANSFORMS
from .loading import _append_seg_field


@TRANSFORMS.register_module()
class FillWithPseudoLabels(BaseTransform):
    """Keep ground-truth labels where they exist; take pseudo-labels everywhere else.

    For datasets with partial or no labels trained against a teacher (DSS sec. 3.1;
    the online teacher does the same through ``MultiTaskEstimator(
    pseudo_label_field='gt_sem_seg')``). Both maps must use the same class ids (e.g.
    map the dataset's labels to the teacher's classes when loading them). Run it
    after loading both maps and before geometric transforms or after them; both maps
    are seg fields, so they move together.

    Required keys: ``gt_pseudo_seg_map``; optional ``gt_seg_map`` (a sample without
    it takes the pseudo-labels everywhere), ``gt_pseudo_conf``.
    Modified keys: ``gt_seg_map`` (uint8, ``ignore_index`` only where both are
    unlabelled); ``gt_pseudo_conf`` becomes 1 where the ground truth is kept.

    Args:
        ignore_index: The unlabelled id of both maps.

    Raises:
        ValueError: The two maps differ in size (naming both files).
    """

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        pseudo = results['gt_pseudo_seg_map']
        gt = results.get('gt_seg_map')
        if gt is None:
            merged = pseudo.copy()
            keep_gt = np.zeros(pseudo.shape, dtype=bool)
        else:
            if gt.shape != pseudo.shape:
                raise ValueError(
                    f'FillWithPseudoLabels: label map {results.get("seg_map_path")} '
                    f'is {gt.shape[0]}x{gt.shape[1]} but pseudo-label map '
                    f'{results.get("pseudo_seg_map_path")} is '
                    f'{pseudo.shape[0]}x{pseudo.shape[1]}')
            keep_gt = gt != self.ignore_index
            merged = np.where(keep_gt, gt, pseudo).astype(np.uint8)
        results['gt_seg_map'] = merged
        _append_seg_field(results, 'gt_seg_map')
        if 'gt_pseudo_conf' in results:
            results['gt_pseudo_conf'] = np.where(
                keep_gt, np.float32(1), results['gt_pseudo_conf']).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(ignore_index={self.ignore_index})'
