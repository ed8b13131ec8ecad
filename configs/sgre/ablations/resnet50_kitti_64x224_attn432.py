# SGRE Table 6 (appendix A.3): attention levels, trained and evaluated at 64x224.
# This row: attention at decoder blocks 4, 3, 2 (paper: AbsRel 0.136, d1 0.830).
# The table does not say whether SEEM was on; the full model is used and only the
# attention levels differ between the four rows. N scales to 1,025 SEEM points.
_base_ = ['../resnet50_kitti.py']
image_scale = (224, 64)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='BinaryForegroundMap',
         foreground_classes={{_base_.sgre_foreground_classes}},
         keys=('gt_pseudo_seg_map', )),
    dict(type='SampleSEEMPoints', mask_key='gt_pseudo_seg_map', num_points=3000,
         edge_ratio=0.4, max_offset=3, ref_size=(192, 640), scale_with_size=True),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='LoadVelodyneDepth'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(depth_decoder=dict(attention_blocks=(4, 3, 2)))
