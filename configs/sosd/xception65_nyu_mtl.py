# MTL baseline (Tables 2-3): the shared backbone and decoder with plain task heads,
# i.e. SOSD-Net without the semantic-to-depth and depth-to-semantic units, trained
# jointly (paper: rel 0.159, d1 0.775, mIoU 41.7).
_base_ = ['./xception65_nyu_joint.py']
model = dict(depth_head=dict(with_unit=False), sem_head=dict(with_unit=False))
