# DSS stage 1 (section 4.2, "Training"): "the encoder-decoder, excluding the Symbiotic
# Transformer module, is pre-trained on ADE20K for 30 epochs". MaxViT-L (ImageNet,
# timm) + the eq. 1 decoder + both task necks (the DSS neck with symbiosis=False, so
# its state-dict names equal stage 2's) + the DSS semantic head with ADE20K's 150
# classes; no depth head. Jaccard + cross-entropy on the ADE20K labels (mmseg's
# ADE20KDataset, reduce_zero_label: 0 = "other" -> 255, classes 1..150 -> 0..149),
# 512x512 crops.
#
# Two-stage training (the stage-2 configs load this run's last checkpoint through
# their `model.init_cfg`, mmengine's `Pretrained` initialisation):
#   1. python tools/train.py configs/dss/maxvit_ade20k_pretrain.py
#        -> work_dirs/maxvit_ade20k_pretrain/epoch_30.pth
#   2. python tools/train.py configs/dss/maxvit_nyu.py      (or maxvit_kitti.py)
#        logs the keys the stage-1 checkpoint lacks: exactly the Symbiotic
#        Transformer (task_neck.depth_guided.*, task_neck.semantics_guided.*) and
#        the depth head (depth_head.*). Another stage-1 file:
#        --cfg-options model.init_cfg.checkpoint=PATH; none: model.init_cfg=None.
#
# Interpretations (the paper gives only the dataset, the epochs and what is trained):
# - The schedule is the symbiosis schedule (AdamW (0.9, 0.999), 1-epoch linear
#   warm-up 4e-6 -> 3e-5, cosine to 0; weight decay cosine 0.05 -> 0.005) stretched
#   to 30 epochs; 4 images per GPU on 8 GPUs.
# - The depth neck has no loss in stage 1 (it is here so that only LG-CAT and the
#   depth head are new in stage 2); it keeps its initialisation, and distributed
#   training needs `find_unused_parameters=True`.
# - Augmentation and validation follow mmseg's ADE20K recipe (random resize 0.5-2.0
#   of 2048x512, crop, flip, photometric distortion; test at short side 512). Test
#   images are not multiples of MaxViT's 512-pixel partition, so the backbone pads
#   them and crops the features back (`pad_to_partition`, as the KITTI config).
_base_ = [
    '../_base_/models/dss_maxvit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    './_base_/schedule_20e.py',
]
crop_size = (512, 512)
num_classes = 150
max_epochs = 30
warmup_epochs = 1
log_processor = dict(by_epoch=True)
model = dict(
    backbone=dict(img_size=crop_size, pad_to_partition=True),
    task_neck=dict(symbiosis=False),  # no LG-CAT: the Symbiotic Transformer is stage 2
    depth_head=None,
    sem_head=dict(
        num_classes=num_classes,
        label_field='gt_sem_seg',  # the ADE20K annotations
        loss_decode=[
            # averaged over the labelled pixels, as torch's cross-entropy
            dict(type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True,
                 loss_weight=1.0),
            dict(type='JaccardLoss', smooth=1.0, loss_weight=1.0),
        ]))
# The depth neck gets no gradient in stage 1 (see above).
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)

train_dataloader = dict(
    batch_size=4,  # per GPU, 8 GPUs (interpretation)
    sampler=dict(type='DefaultSampler', shuffle=True))  # epoch-based, not infinite
param_scheduler = [
    dict(type='LinearLR', start_factor=4e-6 / 3e-5, end_factor=1.0, by_epoch=True,
         begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0.0,
         by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         T_max=max_epochs - warmup_epochs, eta_min=0.005, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
