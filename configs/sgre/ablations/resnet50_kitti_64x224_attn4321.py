# SGRE Table 6: attention at decoder blocks 4, 3, 2, 1, at 64x224 (paper: AbsRel
# 0.136, d1 0.832). Otherwise resnet50_kitti_64x224_attn432.py.
_base_ = ['./resnet50_kitti_64x224_attn432.py']
model = dict(depth_decoder=dict(attention_blocks=(4, 3, 2, 1)))
