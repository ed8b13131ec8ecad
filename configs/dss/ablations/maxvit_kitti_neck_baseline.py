# DSS Table 4 (KITTI): Baseline — the Symbiotic Transformer replaced by identity (the
# task necks feed the heads). NearFarMix on, as in the main config; only the task
# neck differs.
_base_ = ['../maxvit_kitti.py']
model = dict(task_neck=dict(symbiosis=False))
