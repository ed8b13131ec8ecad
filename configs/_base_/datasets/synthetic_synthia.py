# The embedded synthetic street views in the SYNTHIA-RAND-CITYSCAPES layout (`make
# data`; 24 images, 108x182; class id in the red channel of 16-bit GT/LABELS PNGs,
# mapped to Cityscapes train ids by LoadSynthiaAnnotation: 16 classes, terrain / truck /
# train ignored): a *source* domain for semi-supervised domain adaptation. sde_depth/
# holds stand-ins for source-SDE depth estimates (16-bit PNG, value / 256, an unknown
# scale of 1.6). Evaluate on Cityscapes with synthia_to_cityscapes.py (13 / 16 classes).
# Defines synthia_* variables (no train_dataloader), so it composes with a target base:
#   source_dataset = {{_base_.synthia_dataset}}
synthia_data_root = 'data/synthetic/synthia'
synthia_crop_size = (128, 128)
synthia_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSynthiaAnnotation'),
    dict(type='LoadDepthEstimate', estimate_dir=synthia_data_root + '/sde_depth'),
    dict(type='RandomResize', scale=(216, 128), ratio_range=(1.0, 1.5), keep_ratio=True,
         depth_mode='keep_metric'),
    dict(type='RandomCrop', crop_size=synthia_crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
synthia_dataset = dict(
    type='SynthiaDepthSemDataset',
    data_root=synthia_data_root,
    depth_estimate_dir='sde_depth',
    pipeline=synthia_train_pipeline)
