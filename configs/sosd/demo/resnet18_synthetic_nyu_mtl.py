# SOSD demo ablation "MTL": the joint demo without the two semantic objectness units.
_base_ = ['./resnet18_synthetic_nyu_joint.py']
model = dict(depth_head=dict(with_unit=False), sem_head=dict(with_unit=False))
