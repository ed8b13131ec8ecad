# SDE-Seg SSDA at demo scale: the synthetic GTA5-layout views (`make data`, a
# different camera and look: a domain gap) as the source for the synthetic Cityscapes
# set, with Cross-Domain and Target-Domain DepthMix and the SDE loss (eq. 21). Source
# depth: the set's stand-in estimates (sde_depth/); source images drawn at random
# (Matching Geometry Sampling needs target estimates: see
# ssda_gta5_to_cityscapes_resnet101.py and tools/generate_depth_estimates.py).
_base_ = [
    './ssl_depthmix_resnet18_synthetic.py',
    '../../_base_/datasets/synthetic_gta5.py',
]
train_dataloader = dict(dataset=dict(source={{_base_.gta5_dataset}}))
# the released SSDA rules (docs/sdeseg.md): SDE loss on the labelled target only,
# CDM weighted 1 / q_t, its margin negated with p = 0.5; the mix keeps the online
# student depth (the synthetic set has no disparity8 target estimates)
model = dict(depth_loss_branches=('labelled', ), cross_domain_q_prime='target_share',
             cross_domain_epsilon_flip_prob=0.5)
