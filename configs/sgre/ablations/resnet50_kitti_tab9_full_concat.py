# SGRE Table 9 (appendix C.4), row "full semantic label": the semantic branch predicts
# the 19 Cityscapes classes (softmax cross-entropy on the full pseudo-labels) and its
# features are only concatenated into the depth decoder, no attention and no SEEM
# (paper: AbsRel 0.107, SqRel 0.835, RMSE 4.675, RMSlog 0.185, d1 0.888). The pipeline
# keeps the full labels (no BinaryForegroundMap, no points). Otherwise
# ../resnet50_kitti.py.
_base_ = ['./resnet50_kitti_tab9_binary_concat.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    sem_decoder=dict(out_channels=19),
    sem_loss=dict(_delete_=True, type='CrossEntropyLoss', use_sigmoid=False,
                  loss_weight=1.0, avg_non_ignore=True))
