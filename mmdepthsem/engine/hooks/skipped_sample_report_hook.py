"""Counting the training samples skipped for bad files."""
from typing import List

from mmengine.hooks import Hook

from mmdepthsem.registry import HOOKS


@HOOKS.register_module()
class SkippedSampleReportHook(Hook):
    """Count samples skipped by ``skip_bad_samples=True`` and report them at the end.

    Datasets put the files they skipped into the metainfo (``skipped_files``) of the
    sample served instead, so the count is complete even when the pipeline runs in
    data-loader workers. Each rank counts its own samples.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self.skipped_files: List[str] = []

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        for sample in (data_batch or {}).get('data_samples', []):
            self.skipped_files.extend(sample.metainfo.get('skipped_files', []))
        if self.skipped_files:
            runner.message_hub.update_info('skipped_samples', len(self.skipped_files))

    def after_train(self, runner) -> None:
        if not self.skipped_files:
            runner.logger.info('SkippedSampleReportHook: no training sample was '
                               'skipped.')
            return
        unique = sorted(set(self.skipped_files))
        runner.logger.warning(
            f'SkippedSampleReportHook: {len(self.skipped_files)} training sample(s) '
            f'were skipped because of {len(unique)} bad file(s): ' +
            ', '.join(unique[:20]) + (' ...' if len(unique) > 20 else ''))
