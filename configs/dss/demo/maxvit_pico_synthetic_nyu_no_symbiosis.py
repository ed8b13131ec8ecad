# Table 4's Baseline for the DSS demo: the Symbiotic Transformer replaced by identity
# (task necks feed the heads), NearFarMix on.
_base_ = ['../maxvit_pico_synthetic_nyu.py']
model = dict(task_neck=dict(symbiosis=False))
