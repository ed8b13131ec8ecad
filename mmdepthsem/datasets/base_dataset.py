"""The behaviour shared by mmdepthsem's datasets: metainfo, data checks, bad samples."""
import colorsys
import logging
import os.path as osp
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import mmengine.fileio as fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .transforms.loading import DataFileError, missing_file_error

DEMO_HINT = ('To try mmdepthsem without downloading any data, `make demo` runs '
             'configs/multitask/resnet18_synthetic_nyu.py on the embedded '
             'synthetic data.')


def make_palette(num_classes: int) -> List[List[int]]:
    """Distinct, deterministic RGB colours for ``num_classes`` classes.

    Hues advance by the golden ratio so that neighbouring ids differ strongly;
    saturation and value cycle through three levels.

    Args:
        num_classes: Number of colours.

    Returns:
        ``num_classes`` ``[r, g, b]`` lists with values in ``0..255``.
    """
    palette = []
    for i in range(num_classes):
        hue = (i * 0.6180339887) % 1.0
        saturation = (0.85, 0.6, 1.0)[i % 3]
        value = (0.95, 0.75, 0.55)[(i // 3) % 3]
        rgb = colorsys.hsv_to_rgb(hue, saturation, value)
        palette.append([int(round(c * 255)) for c in rgb])
    return palette


class BaseDepthSemDataset(BaseDataset):
    """Base class of mmdepthsem's depth + semantics datasets.

    Adds to mmengine's :class:`~mmengine.dataset.BaseDataset`:

    - metainfo ``classes`` / ``palette`` (empty for depth-only datasets);
    - a check at construction that the data exists, whose error says where the
      data is expected, how to prepare it (``PREPARE_HINT``,
      ``docs/dataset_prepare.md``) and how to run the synthetic demo instead;
    - bad-sample handling. By default a missing or corrupt file raises an error
      naming the file. With ``skip_bad_samples=True`` such a sample is skipped
      with a logged warning naming the file and a running count:
      samples whose files are missing when the data list is built are dropped,
      and a sample whose loading fails in the pipeline (``FileNotFoundError`` or
      :class:`DataFileError`) makes ``prepare_data`` return ``None``, so that
      mmengine refetches a random other sample. ``num_skipped`` counts both, and
      ``skipped_files`` lists the offending files. Counts of pipeline skips
      happen in the process that runs the pipeline (a dataloader worker when
      ``num_workers > 0``). In ``test_mode`` a bad sample always raises:
      dropping evaluation samples would silently change the reported metrics.
    - per-sample ``num_classes`` and ``sample_name`` (a relative stem that names
      the sample, used for offline pseudo-labels:
      ``<pseudo_label_dir>/<sample_name><pseudo_label_suffix>``).

    Subclasses implement :meth:`load_data_list` and use :meth:`require` and
    :meth:`missing_sample` for their files.

    Args:
        ann_file: Annotation / split file, relative to ``data_root``.
        metainfo: Overrides of ``METAINFO`` (``classes``, ``palette``).
        data_root: Root folder of the dataset.
        data_prefix: Sub-folders, relative to ``data_root``.
        filter_cfg: mmengine filter config.
        indices: Use only these (or the first ``indices``) samples.
        serialize_data: Serialise the data list (shared memory across workers).
        pipeline: Transforms.
        test_mode: Evaluation mode.
        lazy_init: Defer loading the data list.
        max_refetch: Attempts to refetch after a skipped sample.
        skip_bad_samples: Skip samples with missing or corrupt files (with a
            warning) instead of raising.
        check_files: Check at construction that every file a sample names exists
            (one ``stat`` per file).
        reduce_zero_label: Put into each sample for the label loader.
        pseudo_label_dir: Folder of offline pseudo-label PNGs (relative to
            ``data_root`` unless absolute); adds ``pseudo_seg_map_path``.
        pseudo_label_suffix: Suffix of pseudo-label files.
        pseudo_conf_dir: Folder of confidence maps; adds ``pseudo_conf_path``.
        pseudo_conf_suffix: Suffix of confidence files (``.npy`` or ``.png``).
        subset_file: Keep only the samples this text file names, one
            ``sample_name`` per line (``#`` comments and blank lines ignored), in
            the dataset's own order — e.g. a labelled split of 100 Cityscapes
            images (``tools/select_annotations.py`` writes this format). A name
            the dataset does not have is an error naming the file and line.
            Relative to ``data_root`` unless absolute.
        backend_args: mmengine file backend arguments.
    """

    METAINFO: dict = dict(classes=(), palette=[])
    #: The command that prepares this dataset (shown when the data is missing).
    PREPARE_HINT: str = 'see docs/dataset_prepare.md'

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 skip_bad_samples: bool = False,
                 check_files: bool = True,
                 reduce_zero_label: bool = False,
                 pseudo_label_dir: Optional[str] = None,
                 pseudo_label_suffix: str = '.png',
                 pseudo_conf_dir: Optional[str] = None,
                 pseudo_conf_suffix: str = '.npy',
                 subset_file: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.subset_file = self._under_root(data_root, subset_file)
        self.skip_bad_samples = skip_bad_samples
        self.check_files = check_files
        self.reduce_zero_label = reduce_zero_label
        self.backend_args = backend_args
        self.num_skipped = 0
        self.skipped_files: List[str] = []
        self.pseudo_label_dir = self._under_root(data_root, pseudo_label_dir)
        self.pseudo_label_suffix = pseudo_label_suffix
        self.pseudo_conf_dir = self._under_root(data_root, pseudo_conf_dir)
        self.pseudo_conf_suffix = pseudo_conf_suffix
        if data_root and not fileio.exists(data_root, backend_args=backend_args):
            raise FileNotFoundError(
                self._missing_data_message('the data root', data_root, data_root))
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(data_prefix or {}),
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    def filter_data(self) -> List[dict]:
        """mmengine's filtering, then the ``subset_file`` selection."""
        data_list = super().filter_data()
        if self.subset_file is None:
            return data_list
        self.require(self.subset_file, 'the subset file')
        text = fileio.get_text(self.subset_file, backend_args=self.backend_args)
        wanted = {}
        for number, line in enumerate(text.splitlines(), 1):
            name = line.strip()
            if name and not name.startswith('#'):
                wanted.setdefault(name, number)
        known = {info['sample_name'] for info in data_list}
        unknown = [(n, name) for name, n in wanted.items() if name not in known]
        if unknown:
            listed = ', '.join(f'line {n}: {name!r}' for n, name in unknown[:5])
            raise KeyError(
                f'{self.subset_file} names {len(unknown)} sample(s) that '
                f'{type(self).__name__} does not have under {self.data_root!r} '
                f'({listed}{", ..." if len(unknown) > 5 else ""}); sample names '
                'look like the `sample_name` of the dataset, e.g. '
                f'{next(iter(known), "<none>")!r}')
        kept = [info for info in data_list if info['sample_name'] in wanted]
        if not kept:
            raise ValueError(f'{self.subset_file} names no sample of '
                             f'{type(self).__name__} under {self.data_root!r} '
                             '(only comments or blank lines?)')
        return kept

    @staticmethod
    def _under_root(data_root: str, path: Optional[str]) -> Optional[str]:
        if path is None or not data_root or osp.isabs(path) or '://' in path:
            return path
        return fileio.join_path(data_root, path)

    # ------------------------------------------------------------ data checks
    def _missing_data_message(self, what: str, path: str, data_root: str) -> str:
        return (f'{type(self).__name__}: {what} was not found: {path!r} '
                f'(data_root={data_root!r}). The expected layout is described in '
                f'docs/dataset_prepare.md; prepare the data with:\n'
                f'    {self.PREPARE_HINT}\n{DEMO_HINT}')

    def require(self, path: str, what: str) -> str:
        """Raise a helpful ``FileNotFoundError`` when a dataset-level file is missing.

        Use for files without which the dataset cannot exist at all (split and
        list files, calibration folders), not for single samples.

        Args:
            path: The required file or folder.
            what: What it is, e.g. ``'the split file'``.

        Returns:
            ``path``.
        """
        if not self.exists(path):
            raise FileNotFoundError(
                self._missing_data_message(what, path, self.data_root))
        return path

    def read_list_file(self, what: str) -> List[Tuple[str, str]]:
        """The lines of ``ann_file``, stripped; blank lines and ``#`` comments skipped.

        Args:
            what: What the file is, for the error when it is missing (see
                :meth:`require`).

        Returns:
            ``(where, line)`` pairs, ``where`` being ``'<ann_file>:<line number>'``.
        """
        self.require(self.ann_file, what)
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        lines = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith('#'):
                lines.append((f'{self.ann_file}:{number}', line))
        return lines

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists (through mmengine's file backends)."""
        return fileio.exists(path, backend_args=self.backend_args)

    def missing_sample(self,
                       sample: str,
                       path: str,
                       what: str = 'file',
                       hint: str = '') -> None:
        """Report a sample whose file is missing while building the data list.

        Raises ``FileNotFoundError`` naming the file, or, with
        ``skip_bad_samples`` (and not in ``test_mode``: evaluation never drops
        samples), logs a warning and counts the skip (the caller then drops the
        sample).

        Args:
            sample: How the sample is named (e.g. the split-file line).
            path: The missing file.
            what: What the file holds.
            hint: Extra advice appended to the message.
        """
        message = (f'{type(self).__name__}: {sample} needs the {what} {path}, '
                   f'which does not exist.')
        if hint:
            message += ' ' + hint
        if self.test_mode:
            raise missing_file_error(
                message + ' Evaluation datasets (test_mode=True) never skip '
                'samples.', path)
        if not self.skip_bad_samples:
            raise missing_file_error(
                message + ' Set skip_bad_samples=True to skip such samples with '
                'a warning.', path)
        self._count_skip(path, message)

    def skip_or_raise(self, error: Exception, path: Optional[str], where: str) -> None:
        """Count a bad file as a skipped sample, or re-raise ``error`` where samples
        may not be skipped (``skip_bad_samples`` off, or ``test_mode``). Call it from
        an ``except`` block.

        Args:
            error: The error the bad file raised.
            path: The bad file.
            where: Which sample, for the warning (e.g. ``"sample 3"``).
        """
        if not self.skip_bad_samples or self.test_mode:
            raise error
        self._count_skip(path, f'{type(self).__name__}: {where}: {error}.')

    def _count_skip(self, path: Optional[str], message: str) -> None:
        self.num_skipped += 1
        self.skipped_files.append(str(path))
        print_log(
            f'{message} Skipping it ({self.num_skipped} sample(s) skipped so '
            'far).',
            logger='current',
            level=logging.WARNING)

    def check_sample_files(self, sample: str, files: dict) -> bool:
        """Check that the files of one sample exist (when ``check_files``).

        Args:
            sample: How the sample is named in messages.
            files: ``{what: path}``; ``None`` paths are ignored.

        Returns:
            ``True`` when all exist (or checking is off); ``False`` when one is
            missing and the sample is skipped. Raises otherwise.
        """
        if not self.check_files:
            return True
        for what, path in files.items():
            if path is not None and not self.exists(path):
                self.missing_sample(sample, path, what)
                return False
        return True

    # ------------------------------------------------------------ sample info
    def common_info(self, sample_name: str) -> dict:
        """Keys every sample carries; subclasses update the returned dict.

        Args:
            sample_name: Relative stem naming the sample (no suffix).
        """
        info = dict(
            sample_name=sample_name,
            seg_fields=[],
            reduce_zero_label=self.reduce_zero_label)
        if self.pseudo_label_dir is not None:
            info['pseudo_seg_map_path'] = fileio.join_path(
                self.pseudo_label_dir, sample_name + self.pseudo_label_suffix)
        if self.pseudo_conf_dir is not None:
            info['pseudo_conf_path'] = fileio.join_path(
                self.pseudo_conf_dir, sample_name + self.pseudo_conf_suffix)
        return info

    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th data-list entry, plus ``num_classes`` (when classes exist)."""
        info = super().get_data_info(idx)
        classes = self.metainfo.get('classes') or ()
        if len(classes):
            info['num_classes'] = len(classes)
        return info

    def __getitem__(self, idx: int) -> Any:
        """mmengine's fetch-with-refetch, plus the files skipped on the way.

        When bad samples were skipped while fetching ``idx``, their files are added
        to the returned sample's metainfo as ``skipped_files``; the packed sample
        carries them out of data-loader worker processes, so
        :class:`SkippedSampleReportHook` can count them in the main process.
        """
        already_skipped = len(self.skipped_files)
        data = super().__getitem__(idx)
        newly_skipped = self.skipped_files[already_skipped:]
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if newly_skipped and hasattr(sample, 'set_metainfo'):
            sample.set_metainfo(dict(skipped_files=list(newly_skipped)))
        return data

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on sample ``idx``; skip it if its files are bad.

        Returns ``None`` (mmengine then refetches another sample) when
        ``skip_bad_samples`` is set, not in ``test_mode``, and loading raised
        ``FileNotFoundError`` or :class:`DataFileError`.
        """
        try:
            return super().prepare_data(idx)
        except (FileNotFoundError, DataFileError) as error:
            path = getattr(error, 'path', None) or getattr(
                error, 'filename', None)  # .filename: plain OSErrors
            self.skip_or_raise(error, path, f'sample {idx}')
            return None
