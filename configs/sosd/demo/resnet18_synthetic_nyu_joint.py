# SOSD demo ablation "SOSD-Net": the ESOSD demo trained jointly (no alternation).
_base_ = ['../resnet18_synthetic_nyu.py']
model = dict(alternation=dict(enabled=False))
