"""Registries of mmdepthsem.

Every registry is a child of mmsegmentation's registry of the same kind (which in turn
is a child of mmengine's root registry). With ``default_scope='mmdepthsem'`` a config can
name mmdepthsem's modules, and fall back to mmseg's (``ResNetV1c``, ``ASPPHead``,
``CrossEntropyLoss``, ``IoUMetric``, ``PhotoMetricDistortion``, ...) and mmengine's
without any prefix. A name defined in both scopes resolves to mmdepthsem's; ``mmseg.X``
selects mmseg's explicitly.
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

_SCOPE = 'mmdepthsem'


def _child(name: str, parent: Registry, location: str = None) -> Registry:
    return Registry(
        name,
        parent=parent,
        scope=_SCOPE,
        locations=[location] if location else None)


RUNNERS = _child('runner', MMSEG_RUNNERS)
RUNNER_CONSTRUCTORS = _child('runner constructor', MMSEG_RUNNER_CONSTRUCTORS)
LOOPS = _child('loop', MMSEG_LOOPS, 'mmdepthsem.engine')
HOOKS = _child('hook', MMSEG_HOOKS, 'mmdepthsem.engine')

DATASETS = _child('dataset', MMSEG_DATASETS, 'mmdepthsem.datasets')
DATA_SAMPLERS = _child('data sampler', MMSEG_DATA_SAMPLERS, 'mmdepthsem.datasets')
TRANSFORMS = _child('transform', MMSEG_TRANSFORMS, 'mmdepthsem.datasets.transforms')

MODELS = _child('model', MMSEG_MODELS, 'mmdepthsem.models')
MODEL_WRAPPERS = _child('model_wrapper', MMSEG_MODEL_WRAPPERS, 'mmdepthsem.models')
WEIGHT_INITIALIZERS = _child('weight initializer', MMSEG_WEIGHT_INITIALIZERS,
                             'mmdepthsem.models')
TASK_UTILS = _child('task util', MMSEG_TASK_UTILS, 'mmdepthsem.models')

OPTIMIZERS = _child('optimizer', MMSEG_OPTIMIZERS, 'mmdepthsem.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMSEG_OPTIM_WRAPPERS, 'mmdepthsem.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'mmdepthsem.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMSEG_PARAM_SCHEDULERS,
                          'mmdepthsem.engine')

METRICS = _child('metric', MMSEG_METRICS, 'mmdepthsem.evaluation')
EVALUATOR = _child('evaluator', MMSEG_EVALUATOR, 'mmdepthsem.evaluation')

VISUALIZERS = _child('visualizer', MMSEG_VISUALIZERS, 'mmdepthsem.visualization')
VISBACKENDS = _child('vis_backend', MMSEG_VISBACKENDS, 'mmdepthsem.visualization')
LOG_PROCESSORS = _child('log_processor', MMSEG_LOG_PROCESSORS,
                        'mmdepthsem.visualization')
INFERENCERS = _child('inferencer', MMSEG_INFERENCERS, 'mmdepthsem.apis')

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS', 'INFERENCERS'
]
