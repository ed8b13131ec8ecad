# SDE-Seg's full network and semi-supervised training (sec. 3.3-3.4, 4.2-4.3): the
# SDE network of sdeseg_resnet101.py plus a segmentation decoder of the same
# architecture (19-class head), PAD-Net attention-guided distillation after decoder
# block b = 2 (stride 4, 128 channels; where the official code has it, docs/sdeseg.md),
# a mean teacher (alpha = 0.99),
# DepthMix (eps = 0.03) of each unlabelled crop with a labelled one by the online
# SDE depth, q' with tau = 0.968, colour jitter and blur on the mixed batch, and the
# SDE loss on the unlabelled sequences with equal weight.
_base_ = ['./sdeseg_resnet101.py']
num_classes = 19
data_preprocessor = dict(type='MultiBranchDataPreProcessor')
model = dict(
    type='MeanTeacherDepthSegEstimator',
    data_preprocessor=data_preprocessor,
    sem_decoder=dict(
        type='ASPPUNetDecoder',
        in_channels={{_base_.encoder_channels}},
        channels={{_base_.decoder_widths}},
        aspp_dilations=(6, 12, 18),
        out_channels=num_classes,
        out_activation=None,
        scales=(0, )),
    sem_loss=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                  avg_non_ignore=True),
    cross_task_blocks={2: dict(type='AttentionGuidedDistillation', channels=128)},
    unlabelled_loss='mix',
    mix=dict(type='BatchDepthMix', epsilon=0.03, mask_source='estimate'),
    mix_partner='labelled',
    mix_depth='online',
    confidence_threshold=0.968,
    teacher_momentum=0.01,
    depth_loss_weight=1.0)
# Rows without the SDE loss (depth_loss_weight=0) leave the pose net and the depth
# side outputs unused, and ClassMix / pseudo-label rows skip the mixed batch's depth:
# DDP must tolerate parameters without gradients.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
