# SDE-Seg on CamVid with the SDE trained on Cityscapes sequences (sec. 5.7, Table 11
# "Ours w/o S"): transfer from the Cityscapes SDE network (no CamVid sequences, so no
# multi-task learning), mean teacher and DepthMix by pre-computed SDE depth of the
# CamVid images (tools/generate_depth_estimates.py with the Cityscapes stage-B
# checkpoint), 11 classes, 50 / 100 / 367 labels (subset_file). Paper: 66.8 +- 1.2 /
# 68.9 +- 0.6 / 71.5 +- 0.2 mIoU on the test set. The transfer checkpoint is made
# with this config (the 11-class head stays freshly initialised).
_base_ = [
    '../_base_/models/sdeseg_resnet101_ssl.py',
    '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd_sdeseg_40k.py',
]
estimate_dir = 'data/camvid/sde_disparity8/sde_stage_b_resnet101_cityscapes'
model = dict(sem_decoder=dict(out_channels=11), unlabelled_loss='mix',
             depth_loss_weight=0.0, mix_depth='estimate',
             mix=dict(disparity_norm='none'))
load_from = 'work_dirs/sdeseg_transfer_resnet101_camvid.pth'
# the released form of the estimates: the full image's disparity min-max normalised,
# 8 bits (tools/generate_depth_estimates.py --format disparity8), compared without
# re-normalising the crop; the earlier form here (metric 16-bit depth, normalised
# per crop): --format png, encoding='depth', mix.disparity_norm='per_image'
_depth = dict(type='LoadDepthEstimate', estimate_dir=estimate_dir,
              encoding='normalised_disparity')
# DepthMix pairs from the pool G_A u G_U (docs/sdeseg.md): the unlabelled branch
# loads every image's labels; SemiSupervisedDataset keeps those of the split only.
train_dataloader = dict(dataset=dict(
    mark_labelled=True,
    labelled=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadSemAnnotation'),
        _depth,
        dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
        dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDepthSemInputs'),
    ]),
    unlabelled=dict(with_seg=True, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadSemAnnotation'),
        _depth,
        dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
        dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDepthSemInputs'),
    ])))
# The released schedule for CamVid (experiments.py `setup_dataset`: 20k iterations,
# lr /10 after 15k, validation every 500 after the step; the paper gives none):
max_iters = 20000
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[15000], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters,
                 dynamic_intervals=[(100 + 2, 2500), (15000 + 2, 500)])
