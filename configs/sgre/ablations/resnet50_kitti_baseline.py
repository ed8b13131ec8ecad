# SGRE Table 2, row 1 "Baseline": Monodepth2 with the ResNet-50 depth encoder, no
# semantic branch (paper: AbsRel 0.110, SqRel 0.830, RMSE 4.639, RMSlog 0.187,
# d1 0.884). Same data, schedule and evaluation as ../resnet50_kitti.py; the pipeline
# still loads the pseudo-labels and samples SEEM points, which this model ignores, so
# the four Table 2 rows see identical batches.
_base_ = ['../resnet50_kitti.py']
model = dict(
    _delete_=True,
    type='SelfSupervisedDepthEstimator',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='TIMMBackbone', model_name='resnet50', features_only=True,
                  pretrained=True, out_indices=(0, 1, 2, 3, 4)),
    depth_decoder=dict(type='MonodepthDepthDecoder',
                       in_channels={{_base_.encoder_channels}}, scales=(0, 1, 2, 3)),
    pose_net={{_base_.model.pose_net}},
    photometric_loss={{_base_.model.photometric_loss}},
    smoothness_loss={{_base_.model.smoothness_loss}},
    frame_ids=(-1, 1),
    scales=(0, 1, 2, 3),
    scale_weighting={{_base_.model.scale_weighting}},
    align_corners={{_base_.model.align_corners}},
    min_depth=0.1,
    max_depth=100.0)
custom_hooks = [dict(type='RandomStateHook'), dict(type='SkippedSampleReportHook')]
