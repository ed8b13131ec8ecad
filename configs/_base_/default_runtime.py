default_scope = 'mmdepthsem'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py and tools/test.py switch to gloo when no GPU is visible.
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DepthSemLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

# The RNG states travel with every checkpoint, so a resumed run continues the same
# random stream; samples skipped for bad files (`skip_bad_samples=True`) are counted
# and listed at the end (default_hooks live in the schedule files, as in mmseg).
custom_hooks = [dict(type='RandomStateHook'), dict(type='SkippedSampleReportHook')]
randomness = dict(seed=0)
