# SDE-Seg semi-supervised domain adaptation GTA5 -> Cityscapes (sec. 3.5, 4.3, eq. 21):
# each batch has 2 source (GTA5, 19 classes), 2 labelled and 2 unlabelled Cityscapes
# images; L = CE_trg + CE_src + q'_CDM CE(Cross-Domain DepthMix) + q'_TDM CE(Target-
# Domain DepthMix) + L_D^trg (SDE on the target sequences), equal weights. Source
# images are drawn by Matching Geometry Sampling (eq. 22-23: the most similar
# log(1 + 1/D) layout among 5 random candidates, top 80 / bottom 100 rows excluded,
# median-normalised). Needs: the transferred Cityscapes SDE checkpoint (load_from),
# SDE depth estimates of the Cityscapes training images (target) and of GTA5 from a
# GTA-sequence SDE network (source), both written by tools/generate_depth_estimates.py;
# a target label split of 100 / 200 / 500 / 2975 images (subset_file).
_base_ = ['./_ssl_resnet101_cityscapes.py']
labelled_split = 'splits/train_100_seed0.txt'
target_estimates = 'data/cityscapes/sde_depth/sde_stage_b_resnet101_cityscapes'
source_estimates = 'data/gta5/sde_depth/sde_gta5'
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSemAnnotation'),
    dict(type='LoadDepthEstimate', estimate_dir=source_estimates),
    # GTA5 (1914 x 1052) to the target's 1024 x 512 scale, then 512 x 512 crops
    dict(type='Resize', scale=(1024, 563), keep_ratio=False),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(dataset=dict(
    labelled=dict(subset_file=labelled_split),
    source=dict(
        type='MatchingGeometrySourceDataset',
        source=dict(type='GTA5DepthSemDataset', data_root='data/gta5',
                    pipeline=source_pipeline),
        # only the data list is read: the same listing as the unlabelled branch
        target=dict(type='CityscapesDepthSemDataset', data_root='data/cityscapes',
                    split='train', with_seg=False, with_disparity=False,
                    with_camera=False),
        target_estimate_dir=target_estimates,
        source_estimate_dir=source_estimates,
        num_candidates=5),
    source_matched=True))
