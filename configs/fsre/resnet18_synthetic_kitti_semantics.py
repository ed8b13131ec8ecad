# Segmentation test of the FSRE demo model on the synthetic drives' KITTI-2015-style
# semantic benchmark (data/synthetic/kitti/data_semantics: test-drive frames,
# Cityscapes label ids -> 19 train ids):
#   python tools/test.py configs/fsre/resnet18_synthetic_kitti_semantics.py CKPT
_base_ = ['./resnet18_synthetic_kitti.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='LoadSemAnnotation'),
    dict(type='PackDepthSemInputs'),
]
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KITTISemanticsDataset',
        data_root='data/synthetic/kitti/data_semantics',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = [dict(type='IoUMetric')]
