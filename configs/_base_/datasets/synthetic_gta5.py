# The embedded synthetic street views in the GTA5 layout (`make data`; 24 images,
# 110x200, Cityscapes label ids mapped to the 19 train ids while loading): a *source*
# domain for semi-supervised domain adaptation to (synthetic) Cityscapes. sde_depth/
# holds stand-ins for source-SDE depth estimates (16-bit PNG, value / 256, an unknown
# scale of 0.6 like a real SDE network's), read by LoadDepthEstimate for DepthMix and by
# MatchingGeometrySourceDataset.
# Defines gta5_* variables (no train_dataloader), so it composes with a target base:
#   source_dataset = {{_base_.gta5_dataset}}
gta5_data_root = 'data/synthetic/gta5'
gta5_crop_size = (128, 128)
gta5_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSemAnnotation'),
    dict(type='LoadDepthEstimate', estimate_dir=gta5_data_root + '/sde_depth'),
    # to the synthetic Cityscapes scale (128 x 256) and a little beyond
    dict(type='RandomResize', scale=(232, 128), ratio_range=(1.0, 1.5), keep_ratio=True,
         depth_mode='keep_metric'),
    dict(type='RandomCrop', crop_size=gta5_crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
gta5_dataset = dict(
    type='GTA5DepthSemDataset',
    data_root=gta5_data_root,
    depth_estimate_dir='sde_depth',
    pipeline=gta5_train_pipeline)
