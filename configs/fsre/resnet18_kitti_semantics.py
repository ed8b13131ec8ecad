# Segmentation test of an FSRE ResNet-18 checkpoint on the KITTI-2015 semantic
# benchmark (data/kitti_semantics: the 200 annotated training images, Cityscapes label
# ids -> 19 train ids; the paper reports 56.6 mIoU). Images resized to the training
# size 192x640, labels kept at full resolution:
#   python tools/test.py configs/fsre/resnet18_kitti_semantics.py CKPT
_base_ = ['./resnet18_kitti.py']
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
        data_root='data/kitti_semantics',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = [dict(type='IoUMetric')]
