# Depth-only baseline (Table 3): the MTL network with the semantic head removed
# (paper: rel 0.167, rms 0.637, d1 0.713).
_base_ = ['./xception65_nyu_mtl.py']
model = dict(sem_head=None)
val_evaluator = [
    dict(type='DepthMetric', crop='nyu_eigen', min_depth=1e-3, max_depth=10.0,
         average='pixel')
]
test_evaluator = val_evaluator
