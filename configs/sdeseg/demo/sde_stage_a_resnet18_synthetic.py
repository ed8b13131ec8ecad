# SDE-Seg demo, SDE pretraining stage A. The paper freezes the ImageNet encoder
# here; the demo has no ImageNet weights (nothing is downloaded), so a frozen
# random encoder would teach nothing and stage A trains the whole network.
# configs/sdeseg/sde_stage_a_resnet101_cityscapes.py keeps the paper's freeze.
_base_ = ['./_sde_resnet18_synthetic.py']
model = dict(freeze_backbone=False)
