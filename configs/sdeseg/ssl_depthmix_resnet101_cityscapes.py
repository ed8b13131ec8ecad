# SDE-Seg Table 3 "DepthMix": mean teacher + DepthMix (eps = 0.03) by pre-computed SDE
# depth (tools/generate_depth_estimates.py with the stage-B SDE checkpoint), no SDE
# loss, ImageNet encoder. Paper, 1/8 labels: 64.14 +- 1.34; full: 69.83 +- 0.36.
_base_ = ['./_ssl_single_task_resnet101_cityscapes.py']
estimate_dir = 'data/cityscapes/sde_disparity8/sde_stage_b_resnet101_cityscapes'
model = dict(unlabelled_loss='mix', depth_loss_weight=0.0, mix_depth='estimate',
             mix=dict(disparity_norm='none'))
load_from = None
# the released form of the estimates: the full image's disparity min-max normalised,
# 8 bits (tools/generate_depth_estimates.py --format disparity8), compared without
# re-normalising the crop; the earlier form here (metric 16-bit depth, normalised
# per crop): --format png, encoding='depth', mix.disparity_norm='per_image'
_depth = dict(type='LoadDepthEstimate', estimate_dir=estimate_dir,
              encoding='normalised_disparity')
train_dataloader = dict(dataset=dict(
    labelled=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadSemAnnotation'),
        _depth,
        dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
        dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDepthSemInputs'),
    ]),
    unlabelled=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadSemAnnotation'),  # kept for the pool's labelled images
        _depth,
        dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
        dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDepthSemInputs'),
    ], frame_ids=())))
