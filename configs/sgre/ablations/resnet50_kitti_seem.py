# SGRE Table 2, row 2 "Baseline + SEEM": semantic branch, fusion and SEEM, no
# self-attention (paper: AbsRel 0.107, SqRel 0.771, RMSE 4.579, RMSlog 0.184,
# d1 0.887). Otherwise ../resnet50_kitti.py.
_base_ = ['../resnet50_kitti.py']
model = dict(depth_decoder=dict(attention_blocks=()))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook', prefixes=('depth_decoder.seem', ))
]
