# Binary segmentation test of an SGRE checkpoint's semantic branch (Table 8: binary
# mIoU 92.59, DICE 96.05) on the KITTI-2015 semantic benchmark (data/kitti_semantics,
# 200 images): Cityscapes label ids -> 19 train ids -> Table 7's foreground (1) /
# background (0). Images resized to 192x640, labels at full resolution; the branch's
# sigmoid output is thresholded at 0.5.
#   python tools/test.py configs/sgre/resnet50_kitti_semantics.py CKPT
_base_ = ['./resnet50_kitti.py']
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
        data_root='data/kitti_semantics',
        metainfo=dict(classes=('background', 'foreground'),
                      palette=[[0, 0, 0], [255, 255, 255]]),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = [dict(type='IoUMetric', iou_metrics=('mIoU', 'mDice'))]
