import torch
from mmengine.structures import PixelData

from mmdepthsem.models import DepthSemDataPreProcessor
from mmdepthsem.structures import DepthSemDataSample


def _sample(h, w, frames=False):
    s = DepthSemDataSample()
    s.gt_depth_map = PixelData(data=torch.full((1, h, w), 3.0))
    s.gt_sem_seg = PixelData(data=torch.ones(1, h, w, dtype=torch.long))
    if frames:
        s.frames = torch.full((2, 3, h, w), 10, dtype=torch.uint8)
        s.set_metainfo(dict(frame_ids=(-1, 1)))
    return s


def test_pads_each_field_with_its_invalid_value():
    pre = DepthSemDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1], size_divisor=8)
    images = [torch.zeros(3, 5, 6, dtype=torch.uint8),
              torch.zeros(3, 7, 3, dtype=torch.uint8)]
    out = pre(dict(inputs=images, data_samples=[_sample(5, 6), _sample(7, 3)]),
              training=True)
    assert out['inputs'].shape == (2, 3, 8, 8)
    second = out['data_samples'][1]
    assert second.gt_depth_map.data[0, 7, 7] == 0.0  # depth padded invalid
    assert second.gt_depth_map.data[0, 0, 0] == 3.0
    assert second.gt_sem_seg.data[0, 7, 7] == 255  # labels padded ignore
    assert second.metainfo['padding_size'] == (0, 5, 0, 1)
    assert tuple(second.metainfo['img_shape']) == (8, 8)


def test_bgr_to_rgb_normalisation_and_frames():
    pre = DepthSemDataPreProcessor(mean=[1, 2, 3], std=[2, 2, 2], bgr_to_rgb=True)
    image = torch.stack([torch.full((4, 4), v, dtype=torch.uint8) for v in (5, 7, 9)])
    out = pre(dict(inputs=[image], data_samples=[_sample(4, 4, frames=True)]))
    # BGR (5, 7, 9) -> RGB (9, 7, 5), minus mean (1, 2, 3), over std 2
    assert out['inputs'][0, :, 0, 0].tolist() == [4.0, 2.5, 1.0]
    frames = out['data_samples'][0].frames
    assert frames.dtype == torch.float32 and frames.shape == (2, 3, 4, 4)
    assert frames[0, :, 0, 0].tolist() == [4.5, 4.0, 3.5]


def test_fixed_size_padding():
    pre = DepthSemDataPreProcessor(size=(6, 6))
    out = pre(dict(inputs=[torch.zeros(3, 4, 5, dtype=torch.uint8)]))
    assert out['inputs'].shape == (1, 3, 6, 6)


def test_targets_keep_their_size_at_test_time():
    pre = DepthSemDataPreProcessor(size_divisor=8)
    out = pre(dict(inputs=[torch.zeros(3, 5, 6, dtype=torch.uint8)],
                   data_samples=[_sample(5, 6, frames=True)]), training=False)
    sample = out['data_samples'][0]
    assert sample.gt_depth_map.shape == (5, 6)
    assert sample.frames.shape[-2:] == (8, 8)  # model inputs are padded
    assert sample.metainfo['padding_size'] == (0, 2, 0, 3)


def test_misaligned_training_target_is_named():
    import pytest
    pre = DepthSemDataPreProcessor()
    sample = _sample(5, 6)
    sample.set_metainfo(dict(img_path='frame_7.png'))
    with pytest.raises(ValueError, match='training target .*frame_7.png'):
        pre(dict(inputs=[torch.zeros(3, 10, 12, dtype=torch.uint8)],
                 data_samples=[sample]), training=True)


def test_batch_augments_run_in_training_only():
    from mmdepthsem.registry import MODELS

    @MODELS.register_module(force=True)
    class _RollBatch:
        """Test augment: pairs each image with its batch neighbour, as mixes do."""

        def __call__(self, inputs, data_samples):
            return inputs.roll(1, dims=0), data_samples

    pre = DepthSemDataPreProcessor(batch_augments=[dict(type='_RollBatch')])
    images = [torch.full((3, 2, 2), v, dtype=torch.uint8) for v in (1, 2, 3)]
    trained = pre(dict(inputs=images), training=True)['inputs'][:, 0, 0, 0]
    tested = pre(dict(inputs=images), training=False)['inputs'][:, 0, 0, 0]
    assert trained.tolist() == [3.0, 1.0, 2.0]
    assert tested.tolist() == [1.0, 2.0, 3.0]
