# Binary segmentation test of the SGRE demo model's semantic branch on the synthetic
# drives' KITTI-2015-style benchmark (data/synthetic/kitti/data_semantics: test-drive
# frames, Cityscapes label ids -> train ids -> Table 7's foreground / background):
# binary mIoU and DICE, as SGRE's Table 8.
#   python tools/test.py configs/sgre/resnet18_synthetic_kitti_semantics.py CKPT
_base_ = ['./resnet18_synthetic_kitti.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='LoadSemAnnotation', num_classes=19),
    dict(type='BinaryForegroundMap',
         foreground_classes={{_base_.sgre_foreground_classes}},
         keys=('gt_seg_map', )),
    dict(type='PackDepthSemInputs'),
]
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KITTISemanticsDataset',
        data_root='data/synthetic/kitti/data_semantics',
        metainfo=dict(classes=('background', 'foreground'),
                      palette=[[0, 0, 0], [255, 255, 255]]),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = [dict(type='IoUMetric', iou_metrics=('mIoU', 'mDice'))]
