# SGRE demo ablation "baseline + SA" (Table 2, row 3): the SGRE demo without SEEM
# (semantic branch, fusion and attention at blocks 4, 3, 2 kept). The pipeline still
# samples the points; nothing reads them.
_base_ = ['../resnet18_synthetic_kitti.py']
model = dict(depth_decoder=dict(seem=None))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook', prefixes=('depth_decoder.attention', ))
]
