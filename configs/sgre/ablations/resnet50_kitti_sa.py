# SGRE Table 2, row 3 "Baseline + SA": semantic branch, fusion and self-attention at
# decoder blocks 4, 3, 2, no SEEM (paper: AbsRel 0.106, SqRel 0.794, RMSE 4.578,
# RMSlog 0.183, d1 0.890). Otherwise ../resnet50_kitti.py. Row 4 (SEEM + SA)
# is ../resnet50_kitti.py itself.
_base_ = ['../resnet50_kitti.py']
model = dict(depth_decoder=dict(seem=None))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook', prefixes=('depth_decoder.attention', ))
]
