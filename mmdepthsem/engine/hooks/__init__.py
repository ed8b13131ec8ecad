from .grad_norm_hook import ModuleGradNormHook
from .prediction_writer_hook import PredictionWriterHook
from .random_state_hook import RandomStateHook
from .skipped_sample_report_hook import SkippedSampleReportHook
from .visualization_hook import DepthSemVisualizationHook  # noqa: F401

__all__ = [
    'DepthSemVisualizationHook', 'ModuleGradNormHook', 'PredictionWriterHook',
    'RandomStateHook', 'SkippedSampleReportHook'
]
