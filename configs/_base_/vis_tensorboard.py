# default_runtime.py with TensorBoard logging added next to the local files.
#
# Use it *instead of* '../_base_/default_runtime.py' in a `_base_` list: mmengine does
# not let two sibling bases define the same key, and both files define `vis_backends`
# and `visualizer`. For a config that already inherits default_runtime.py, see
# "TensorBoard" in docs/config_reference.md.
#
# TensorboardVisBackend needs the `tensorboard` package (`pip install tensorboard`),
# which is not part of the tested environment; event files go to
# <work_dir>/<timestamp>/vis_data/.
_base_ = ['./default_runtime.py']
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(
    type='DepthSemLocalVisualizer', vis_backends=vis_backends, name='visualizer')
