# Demo of SGRE on the embedded synthetic drives: the Monodepth2 demo
# (configs/selfsup/monodepth2_resnet18_synthetic_kitti.py: same data, size 64x224,
# schedule and seed) plus SGRE's binary semantic branch (BCE on the renderer's
# stand-in pseudo-labels mapped to Table 7's foreground), semantic fusion, attention
# at decoder blocks 4, 3, 2 and SEEM. A ResNet-18 depth encoder instead of the
# paper's ResNet-50 so that the four demo runs fit minutes on CPU; SEEM's encoder
# projection reads ResNet-18's econv1/econv0 (64 + 64 channels). N = 3000 points at
# 192x640 scale to 1,025 at 64x224 (410 edge, 410 disturbed, 205 random).
_base_ = [
    '../_base_/models/sgre_resnet50.py',
    '../_base_/datasets/synthetic_kitti_selfsup.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_selfsup_demo.py',
]
encoder_channels = (64, 64, 128, 256, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='BinaryForegroundMap',
         foreground_classes={{_base_.sgre_foreground_classes}},
         keys=('gt_pseudo_seg_map', )),
    # the model's seem_sampling values (test-time points use the same ones)
    dict(type='SampleSEEMPoints', mask_key='gt_pseudo_seg_map', num_points=3000,
         edge_ratio=0.4, max_offset=3, ref_size=(192, 640), scale_with_size=True),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No auto-masking, as the Monodepth2 and FSRE demos (docs/selfsup.md): the synthetic
# drives have no static frames. The paper configs keep it.
model = dict(
    backbone=dict(model_name='resnet18', pretrained=False),
    depth_decoder=dict(in_channels=encoder_channels),
    sem_decoder=dict(in_channels=encoder_channels),
    pose_net=dict(encoder=dict(checkpoint=None)),
    photometric_loss=dict(automask=False))
# log the gradient norms reaching SEEM and the attention modules
# (train/grad_norm_depth_decoder_seem, train/grad_norm_depth_decoder_attention)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook',
         prefixes=('depth_decoder.seem', 'depth_decoder.attention'))
]
