# DSS Table 3 (KITTI): DepthMix (Hoyer et al.) on ground-truth
# depth, eq. 10 in normalised disparity.
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
# Sparse LiDAR ground truth: depth-based mixes read it densified (nearest).
_base_ = ['../maxvit_kitti.py']
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='BatchDepthMix', prob=0.5, mask_source='densified')]))
