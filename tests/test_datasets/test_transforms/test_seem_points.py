"""SGRE's SEEM point sampling (Sobel, counts, S_E/S_D/S_R) and binary foreground maps."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmdepthsem.datasets.transforms import (BinaryForegroundMap, PackDepthSemInputs,
                                            SampleSEEMPoints)
from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.datasets.transforms.seem_points import SGRE_FOREGROUND_CLASSES
from mmdepthsem.registry import TRANSFORMS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.edge_points import (sample_edge_points, seem_point_counts,
                                          sobel_magnitude)

register_all_modules()


def rectangle_mask(h: int = 10, w: int = 12) -> torch.Tensor:
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[3:7, 4:9] = True  # rows 3..6, cols 4..8
    return mask


def blobs_mask(h: int = 48, w: int = 64) -> torch.Tensor:
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[5:20, 8:30] = True
    mask[25:44, 35:60] = True
    mask[30:34, 10:13] = True
    return mask


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- sobel_magnitude
def test_sobel_is_non_zero_exactly_on_the_two_pixels_around_the_border():
    mask = rectangle_mask()
    mag = sobel_magnitude(mask)
    assert mag.shape == (10, 12) and mag.dtype == torch.float32
    expected = torch.zeros(10, 12, dtype=torch.bool)
    expected[2:8, 3:10] = True  # the rectangle grown by one pixel ...
    expected[4:6, 5:8] = False  # ... minus its interior shrunk by one pixel
    assert torch.equal(mag > 0, expected)
    # image borders (no edge there) are zero thanks to replicate padding
    assert mag[0].eq(0).all() and mag[-1].eq(0).all()
    assert mag[:, 0].eq(0).all() and mag[:, -1].eq(0).all()
    assert mag[2, 6] == pytest.approx(4.0)  # a straight edge: 1 + 2 + 1


def test_sobel_constant_mask_has_no_edges_and_batched_shape():
    assert sobel_magnitude(torch.ones(5, 7)).eq(0).all()  # zero padding would fail
    batch = torch.stack([rectangle_mask(), torch.zeros(10, 12, dtype=torch.bool)])
    mag = sobel_magnitude(batch[:, None])
    assert mag.shape == (2, 1, 10, 12)
    assert torch.equal(mag[0, 0], sobel_magnitude(rectangle_mask()))
    assert mag[1].eq(0).all()
    with pytest.raises(ValueError, match='mask must be'):
        sobel_magnitude(torch.zeros(2, 3, 4, 5))


# --------------------------------------------------------------- seem_point_counts
def test_point_counts_at_reference_and_scaled_size():
    assert seem_point_counts(192, 640) == (1200, 600)
    assert seem_point_counts(96, 320) == (600, 300)  # half the side, half the points
    assert seem_point_counts(96, 320, scale_with_size=False) == (1200, 600)
    num_edge, num_random = seem_point_counts(384, 1280, edge_ratio=0.5)
    assert (num_edge, num_random) == (3000, 0)
    for ratio in (0.0, 0.6):
        with pytest.raises(ValueError, match='edge_ratio'):
            seem_point_counts(192, 640, edge_ratio=ratio)


# -------------------------------------------------------------- sample_edge_points
def test_sample_sizes_bounds_and_edge_points():
    mask = blobs_mask()
    h, w = mask.shape
    num_edge, num_random, c = 100, 50, 3
    points, num_on_edges = sample_edge_points(mask, num_edge, num_random, c, gen(0))
    assert points.shape == (2 * num_edge + num_random, 2)
    assert points.dtype == torch.int64
    x, y = points[:, 0], points[:, 1]
    assert (x >= 0).all() and (x < w).all() and (y >= 0).all() and (y < h).all()

    mag = sobel_magnitude(mask)
    assert int((mag > 0).sum()) > num_edge and num_on_edges == num_edge
    s_e, s_d = points[:num_edge], points[num_edge:2 * num_edge]
    picked = mag[s_e[:, 1], s_e[:, 0]]
    assert (picked > 0).all()
    assert len({tuple(p) for p in s_e.tolist()}) == num_edge  # no pixel twice
    rest = mag.clone()
    rest[s_e[:, 1], s_e[:, 0]] = -1
    assert picked.min() >= rest.max()  # the largest responses
    assert ((s_d - s_e).abs().max(dim=1).values <= c).all()  # Chebyshev <= c


def test_disturbed_points_are_clipped_into_the_image():
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[:, :1] = True  # the edge hugs the left image border
    points, _ = sample_edge_points(mask, 12, 0, 5, gen(1))
    assert points[:, 0].min() >= 0 and points[:, 0].max() < 6
    assert points[:, 1].min() >= 0 and points[:, 1].max() < 6


@pytest.mark.parametrize('blob', [True, False])
def test_fewer_edge_pixels_than_requested(blob):
    mask = torch.zeros(20, 30, dtype=torch.bool)
    if blob:
        mask[10, 15] = True  # one pixel: its 8 neighbours respond, it does not
    points, num_on_edges = sample_edge_points(mask, 40, 20, 3, gen(2))
    assert points.shape == (100, 2)
    assert num_on_edges == (8 if blob else 0)
    assert (points[:, 0] < 30).all() and (points[:, 1] < 20).all()
    assert (points >= 0).all()
    on_edge = points[:num_on_edges]
    assert (sobel_magnitude(mask)[on_edge[:, 1], on_edge[:, 0]] > 0).all()


def test_sampling_is_deterministic_per_seed():
    mask = blobs_mask()
    a, _ = sample_edge_points(mask, 100, 50, 3, gen(7))
    b, _ = sample_edge_points(mask, 100, 50, 3, gen(7))
    c, _ = sample_edge_points(mask, 100, 50, 3, gen(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# ---------------------------------------------------------------- BinaryForegroundMap
def test_binary_foreground_map_by_name_and_id():
    label = np.array([[0, 5, 6, 7], [11, 13, 18, 255], [10, 2, 16, 12]], np.uint8)
    out = BinaryForegroundMap(SGRE_FOREGROUND_CLASSES)(dict(gt_pseudo_seg_map=label))
    expected = [[0, 0, 1, 1], [1, 1, 1, 255], [0, 0, 1, 1]]  # pole (5) is background
    assert out['gt_pseudo_seg_map'].tolist() == expected
    assert out['gt_pseudo_seg_map'].dtype == np.uint8
    by_id = TRANSFORMS.build(dict(type='BinaryForegroundMap',
                                  foreground_classes=[6, 7, *range(11, 19)],
                                  keys=('gt_seg_map', )))
    assert by_id(dict(gt_seg_map=label.copy()))['gt_seg_map'].tolist() == expected
    assert by_id.foreground_ids == (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)


def test_binary_foreground_map_errors():
    with pytest.raises(KeyError, match='carr'):
        BinaryForegroundMap(['car', 'carr'])
    transform = BinaryForegroundMap(['car'])
    label = np.array([[0, 19, 255]], np.uint8)
    results = dict(gt_pseudo_seg_map=label, pseudo_seg_map_path='p/a_pseudo.png')
    with pytest.raises(DataFileError, match=r'p/a_pseudo\.png.*ids 19 '):
        transform(results)
    with pytest.raises(KeyError, match='gt_pseudo_seg_map'):
        transform(dict(gt_seg_map=label))
    custom = BinaryForegroundMap(['b'], class_names=('a', 'b'), ignore_index=9)
    out = custom(dict(gt_pseudo_seg_map=np.array([[0, 1, 9]])))
    assert out['gt_pseudo_seg_map'].tolist() == [[0, 1, 9]]


# ------------------------------------------------------------------ SampleSEEMPoints
def test_sample_seem_points_transform_and_packing():
    label = np.full((96, 320), 0, np.uint8)
    label[20:60, 100:180] = 13  # a car
    label[80:, :] = 255  # unlabelled bottom: not an edge
    pipeline = Compose([
        dict(type='BinaryForegroundMap', foreground_classes=SGRE_FOREGROUND_CLASSES),
        dict(type='SampleSEEMPoints', seed=3),
        dict(type='PackDepthSemInputs'),
    ])
    packed = pipeline(dict(img=np.zeros((96, 320, 3), np.uint8),
                           gt_pseudo_seg_map=label.copy()))
    sample = packed['data_samples']
    assert sample.seem_points.dtype == torch.int64
    assert sample.seem_points.shape == (1500, 2)  # 600 + 600 + 300 at half size
    # 600 requested, but the car's 2-pixel edge band (42x82 - 38x78) has only 480
    assert sample.seem_num_edge_points == 480
    on_edge = sample.seem_points[:480]
    assert on_edge[:, 1].min() == 19 and on_edge[:, 1].max() == 60  # not the void
    assert on_edge[:, 0].min() == 99 and on_edge[:, 0].max() == 180

    again = pipeline(dict(img=np.zeros((96, 320, 3), np.uint8),
                          gt_pseudo_seg_map=label.copy()))['data_samples']
    assert torch.equal(sample.seem_points, again.seem_points)


def test_sample_seem_points_unseeded_follows_numpy_seed():
    results = dict(gt_pseudo_seg_map=np.zeros((24, 80), np.uint8))
    transform = SampleSEEMPoints(num_points=100, ref_size=(24, 80))
    np.random.seed(0)
    a = transform(dict(results))['seem_points']
    np.random.seed(0)
    b = transform(dict(results))['seem_points']
    c = transform(dict(results))['seem_points']
    assert a.shape == (100, 2) and a.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(KeyError, match='gt_pseudo_seg_map'):
        transform(dict())
    with pytest.raises(ValueError, match='edge_ratio'):
        SampleSEEMPoints(edge_ratio=0.7)
    assert 'seed=None' in repr(transform)
    assert isinstance(PackDepthSemInputs()(transform(dict(results)))['data_samples']
                      .seem_points, torch.Tensor)
