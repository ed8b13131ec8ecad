# FSRE Table 1b, row 6 (L_CE + L_SGT + CMA + HR): the full method trained (and
# evaluated) on whole frames resized to 320x1024 instead of 192x640. Changes from
# ../resnet18_kitti.py: the Resize of the train and test pipelines (the intrinsics
# follow the resize; 320 and 1024 are multiples of the preprocessor's size_divisor
# 32, and the preprocessor has no fixed size). Batch size and schedule stay as in
# the 192x640 run (the paper does not state others). Paper: AbsRel 0.102,
# SqRel 0.687, RMSE 4.366, RMSlog 0.178, d1 0.895, d2 0.967, d3 0.984.
_base_ = ['../resnet18_kitti.py']
image_scale = (1024, 320)  # (W, H)
# The pipelines are the dataset base's (kitti_eigen_zhou_selfsup.py) with the new
# scale; lists replace the inherited ones as a whole.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
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
