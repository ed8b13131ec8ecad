# SGRE (Li et al.) on the Monodepth2 model (appendix Table 4): ResNet-50 depth encoder,
# a binary semantic branch (Table 4's S_* layers: one channel, sigmoid outputs
# S_disp3..0, BCE on every scale at full resolution, weight 1), a depth decoder that
# fuses the semantic upconv features at every block (aconv_b), self-attention at
# blocks 4, 3, 2 (eq. 7-8, no 1/sqrt(d), gamma = 0 at start) and SEEM writing 16-d
# point features into the upsampled aconv0 (enc 128 / dec 112 / sem 112 -> 256-256-256
# -16). Loss L_p + L_m + 0.001 L_s (eq. 9). Monodepth2's ResNet-18 pose network.
# Block index b: Monodepth2 decoder, 4 = coarsest, the same as Table 4's numbers.
_base_ = ['./monodepth2_resnet18.py']
encoder_channels = (64, 256, 512, 1024, 2048)
# SEEM point sampling (sec. 4.2, A.2): N = 3000 at 192x640, mu = 0.4, c = 3; N scales
# with the image side. Used by the model at test time and by SampleSEEMPoints.
seem_sampling = dict(num_points=3000, edge_ratio=0.4, max_offset=3,
                     ref_size=(192, 640), scale_with_size=True)
# Table 7: the foreground classes of the binary pseudo-labels (Cityscapes train ids
# 6, 7, 11..18); everything else, pole included, is background.
sgre_foreground_classes = ('traffic light', 'traffic sign', 'person', 'rider', 'car',
                           'truck', 'bus', 'train', 'motorcycle', 'bicycle')
model = dict(
    type='SemanticGuidedDepthEstimator',
    backbone=dict(model_name='resnet50'),
    depth_decoder=dict(
        _delete_=True,
        type='SemanticFusedDepthDecoder',
        in_channels=encoder_channels,
        channels=(16, 32, 64, 128, 256),
        scales=(0, 1, 2, 3),
        attention_blocks=(4, 3, 2),
        attention=dict(type='SemanticGuidedSelfAttention', qk_reduction=8),
        seem=dict(type='SemanticEdgeEnhancement', proj_channels=(128, 112, 112),
                  hidden_channels=(256, 256, 256)),
        seem_enc_index=(1, 0),
        seem_blocks=(2, 1, 0)),
    sem_decoder=dict(type='MonodepthDepthDecoder', in_channels=encoder_channels,
                     channels=(16, 32, 64, 128, 256), out_channels=1,
                     out_activation=None, scales=(0, 1, 2, 3)),
    sem_loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0,
                  avg_non_ignore=True),
    sem_label_field='gt_pseudo_sem_seg',
    smoothness_loss=dict(type='EdgeAwareSmoothnessLoss', loss_weight=1e-3),
    test_points='prediction',
    point_sampler=seem_sampling)
