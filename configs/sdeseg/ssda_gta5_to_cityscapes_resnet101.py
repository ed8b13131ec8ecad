# SDE-Seg semi-supervised domain adaptation GTA5 -> Cityscapes (sec. 3.5, 4.3, eq. 21):
# each batch has 2 source (GTA5, 19 classes), 2 labelled Cityscapes images and 2 of
# the Cityscapes pool; L = CE_trg + CE_src + q'_CDM CE(Cross-Domain DepthMix) + q'_TDM
# CE(Target-Domain DepthMix) + L_D^trg, equal weights. Source images are drawn by
# Matching Geometry Sampling (eq. 22-23: the most similar log-disparity layout among
# 5 random candidates, top 80 / bottom 100 rows excluded). Needs: the transferred
# Cityscapes SDE checkpoint (load_from), a target label split of 100 / 200 / 500 /
# 2975 images (subset_file) and SDE estimates written by
# tools/generate_depth_estimates.py: of the Cityscapes training images with the
# stage-B SDE (--format disparity8) and of GTA5 with the GTA-sequence SDE network
# of sde_source_resnet101_gta5_sequences.py (--format sigmoid_disparity16; the
# command is in that config).
# Where the paper is silent or differs, this follows the released SSDA code
# (lhoyer/improving_segmentation_with_selfsupervised_depth @cd541578; docs/sdeseg.md,
# "SSDA: paper vs released code"); the paper's readings by --cfg-options:
#   model.depth_loss_branches=('labelled','unlabelled') (SDE loss on the pool too)
#   model.mix_depth='online', model.mix.disparity_norm='per_image' (student depth,
#     normalised per crop; then the estimates are only read by the source branch)
#   model.cross_domain_q_prime='mixed' (eq. 20), model.cross_domain_epsilon_flip_prob=0
#   model.cross_domain_augment_per='batch' (sigma of the blur shared by the batch)
#   model.cross_domain_teacher_pass='shared' (one teacher pass for both mixes)
#   model.confidence_comparison='gt' (eq. 14: P' > tau; the release counts >=)
#   train_dataloader.dataset.source.candidates_with_replacement=False
#   train_dataloader.dataset.source.match_on='full_map' (whole 1024 x 512 maps,
#     before the crops)
#   train_dataloader.dataset.source.normalise='image' with metric estimates
#     (estimate_encoding='depth', --format png): median-normalised log(1 + 1/D)
_base_ = ['./_ssl_resnet101_cityscapes.py']
labelled_split = 'splits/train_100_seed0.txt'
target_estimates = 'data/cityscapes/sde_disparity8/sde_stage_b_resnet101_cityscapes'
source_estimates = 'data/gta5/sde_sigmoid_disparity16/sde_gta5'
estimate_encoding = 'normalised_disparity'
model = dict(
    mix_depth='estimate',
    mix=dict(disparity_norm='none'),  # stored disparities, compared as they are
    depth_loss_branches=('labelled', ),  # released SSDA: "Changed for SSDA"
    cross_domain_q_prime='target_share',
    cross_domain_epsilon_flip_prob=0.5,
    # the release's cross-domain mix: jitter / blur switched once a batch, sigma per image
    cross_domain_augment_per='switches',
    # the release runs the teacher again for the cross-domain mix (new ASPP dropout
    # masks in its train mode)
    cross_domain_teacher_pass='separate')
# every branch: squeezed to 1024 x 512 (GTA5 is 1914 x 1052; the release's
# downsampling keeps no aspect ratio), 512 x 512 crops, flips
crop_and_pack = [
    dict(type='Resize', scale=(1024, 512), keep_ratio=False),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSemAnnotation'),
    dict(type='LoadDepthEstimate', estimate_dir=source_estimates,
         encoding=estimate_encoding),
] + crop_and_pack
# The pool branch mixes by the pre-computed target estimates and has no SDE loss,
# so it loads no neighbour frames.
pool_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSemAnnotation'),  # kept for the pool's labelled images
    dict(type='LoadDepthEstimate', estimate_dir=target_estimates,
         encoding=estimate_encoding),
] + crop_and_pack
train_dataloader = dict(dataset=dict(
    labelled=dict(subset_file=labelled_split),
    unlabelled=dict(pipeline=pool_pipeline, frame_ids=()),
    source=dict(
        type='MatchingGeometrySourceDataset',
        # the release holds out the last 500 of the sorted GTA5 list (24,966 images)
        source=dict(type='GTA5DepthSemDataset', data_root='data/gta5',
                    indices=24466, pipeline=source_pipeline),
        # only the data list is read: the same listing as the unlabelled branch
        target=dict(type='CityscapesDepthSemDataset', data_root='data/cityscapes',
                    split='train', with_seg=False, with_disparity=False,
                    with_camera=False),
        target_estimate_dir=target_estimates,
        source_estimate_dir=source_estimates,
        estimate_encoding=estimate_encoding,
        normalise='none',  # the release: log(1 + disparity) of the stored maps
        num_candidates=5,
        candidates_with_replacement=True,  # the release's independent draws (S7)
        # the release compares the pool sample's 512 x 512 training crop with each
        # candidate's own crop (top 80 / bottom 100 rows dropped) and keeps that
        # candidate sample (S7)
        match_on='training_crop'),
    source_matched=True))
