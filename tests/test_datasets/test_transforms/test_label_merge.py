"""FillWithPseudoLabels: ground truth where labelled, pseudo-labels elsewhere."""
import numpy as np
import pytest

from mmdepthsem.datasets.transforms import FillWithPseudoLabels, RandomFlip
from mmdepthsem.registry import TRANSFORMS
from mmdepthsem.utils import register_all_modules

register_all_modules()


def test_keeps_ground_truth_and_fills_the_rest():
    results = dict(
        gt_seg_map=np.array([[3, 255], [255, 1]], np.uint8),
        gt_pseudo_seg_map=np.array([[5, 7], [255, 2]], np.uint8),
        gt_pseudo_conf=np.array([[0.2, 0.6], [0.0, 0.9]], np.float32),
        seg_fields=['gt_seg_map', 'gt_pseudo_seg_map'])
    out = TRANSFORMS.build(dict(type='FillWithPseudoLabels'))(results)
    assert out['gt_seg_map'].tolist() == [[3, 7], [255, 1]]
    assert out['gt_seg_map'].dtype == np.uint8
    np.testing.assert_allclose(out['gt_pseudo_conf'], [[1.0, 0.6], [0.0, 1.0]])
    assert out['seg_fields'] == ['gt_seg_map', 'gt_pseudo_seg_map']


def test_a_sample_without_labels_takes_the_pseudo_labels():
    pseudo = np.array([[5, 255]], np.uint8)
    out = FillWithPseudoLabels()(dict(gt_pseudo_seg_map=pseudo))
    assert out['gt_seg_map'].tolist() == [[5, 255]] and out['seg_fields'] == [
        'gt_seg_map']
    out['gt_seg_map'][0, 0] = 0  # a copy, not the pseudo-label array itself
    assert pseudo[0, 0] == 5


def test_merged_labels_follow_a_flip_like_the_image():
    results = dict(
        img=np.zeros((1, 3, 3), np.uint8),
        gt_seg_map=np.array([[0, 255, 255]], np.uint8),
        gt_pseudo_seg_map=np.array([[9, 8, 7]], np.uint8),
        seg_fields=['gt_seg_map', 'gt_pseudo_seg_map'],
        img_shape=(1, 3))
    out = FillWithPseudoLabels()(results)
    flipped = RandomFlip(prob=1.0, direction='horizontal')(out)
    assert flipped['gt_seg_map'].tolist() == [[7, 8, 0]]


def test_size_mismatch_names_both_files():
    results = dict(gt_seg_map=np.zeros((2, 2), np.uint8),
                   gt_pseudo_seg_map=np.zeros((2, 3), np.uint8),
                   seg_map_path='a/label.png', pseudo_seg_map_path='p/label.png')
    with pytest.raises(ValueError, match=r'a/label\.png.*2x2.*p/label\.png.*2x3'):
        FillWithPseudoLabels()(results)
