"""Write a trained self-supervised depth network's estimates for a dataset, once.

    python tools/generate_depth_estimates.py CONFIG CHECKPOINT \
        [--data-config CONFIG] [--phase train val] [--branch unlabelled labelled source]
        [--out-dir DIR] [--format png|npy|disparity8] [--scale W H] [--device cpu|cuda]
        [--cfg-options k=v ...] [--model-cfg-options k=v ...]

``CONFIG``'s ``model`` is any :class:`SelfSupervisedDepthEstimator` (subclasses
included, e.g. SDE-Seg's SDE pretraining network); ``CHECKPOINT`` its weights, loaded
weights-only. The images are those of the ``<phase>_dataloader`` dataset of
``--data-config`` (default: ``CONFIG`` itself), read with a loading-only pipeline (no
augmentation). Wrapper datasets are looked through (``RepeatDataset`` & co.); for a
``SemiSupervisedDataset`` the images of its ``unlabelled``, ``labelled`` and
``source`` branches are used (``--branch`` picks some; a branch's
``MatchingGeometrySourceDataset`` stands for its ``source`` dataset), each sample once.

For every sample the tool writes ``<out-dir>/<sample_name>.png``, a 16-bit PNG of
depth in metres × 256 (0 = invalid, clipped to the uint16 range), or with
``--format npy`` ``<sample_name>.npy`` (float32 metres): the convention of
``LoadDepthEstimate`` and ``MatchingGeometrySourceDataset`` (SDE-Seg's DepthMix
without multi-task learning, source-domain estimates, Matching Geometry Sampling).
``--format disparity8`` writes SDE-Seg's released form instead (its
``loader/depth_estimator.py``): the image's disparity min–max normalised over the
whole image (1 = nearest), times 255 and truncated to an 8-bit PNG;
``--format sigmoid_disparity16`` the network's own sigmoid disparity
``(1/D − 1/max_depth) / (1/min_depth − 1/max_depth)``, times 65535 and truncated to
a 16-bit PNG (the released SSDA's source-domain files, ``inference_sde.py``). Both
are read by ``LoadDepthEstimate(encoding='normalised_disparity')`` for
``DepthMix(disparity_norm='none')`` and by
``MatchingGeometrySourceDataset(estimate_encoding='normalised_disparity')``.
``--out-dir`` defaults to ``<data_root>/depth_estimates/<config name>``.

The depth is ``model.predict`` on the output of the model's own data preprocessor,
i.e. what training sees, at the image's dataset size; with ``--scale W H`` the image
is resized to ``W × H`` for the network and the depth resized back (bilinear) to the
original size. Resumable: files that already exist are kept, and files are written
through a temporary file, so an interrupted run continues where it stopped.
"""
import argparse
import os
import os.path as osp
import sys
import zipfile
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.utils import ProgressBar

BRANCHES = ('unlabelled', 'labelled', 'source')
DEPTH_SCALE = 256.0  # stored PNG value per metre, LoadDepthEstimate's default


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a self-supervised depth network\'s depth estimates')
    parser.add_argument('config', help='config whose model is the depth network')
    parser.add_argument('checkpoint', help='its weights')
    parser.add_argument('--data-config', default=None,
                        help='config whose dataloader lists the images '
                             '(default: CONFIG)')
    parser.add_argument('--phase', nargs='+', default=['train'],
                        choices=['train', 'val', 'test'])
    parser.add_argument('--branch', nargs='+', default=None, choices=BRANCHES,
                        help='branches of a SemiSupervisedDataset to use '
                             '(default: all it has)')
    parser.add_argument('--out-dir', default=None,
                        help='default: <data_root>/depth_estimates/<config name>')
    parser.add_argument('--format', default='png',
                        choices=['png', 'npy', 'disparity8', 'sigmoid_disparity16'],
                        help='16-bit PNG of metres x 256, float32 .npy metres, or '
                             "an 8-bit PNG of the image's min-max normalised "
                             'disparity (the released SDE-Seg form), or a 16-bit '
                             "PNG of the network's sigmoid disparity")
    parser.add_argument('--scale', nargs=2, type=int, default=None,
                        metavar=('W', 'H'),
                        help='network input size (default: the dataset size)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the data config (and of CONFIG when '
                             'it is the data config)')
    parser.add_argument('--model-cfg-options', nargs='+', action=DictAction,
                        help='overrides of CONFIG')
    args = parser.parse_args(argv)
    if args.scale is not None and min(args.scale) <= 0:
        parser.error(f'--scale needs positive W H, got {args.scale}')
    return args


# ---------------------------------------------------------------- datasets
def leaf_dataset_cfg(dataset_cfg: dict) -> dict:
    """The dataset inside wrappers: ``dataset`` of ``RepeatDataset`` & co., the
    ``source`` of a ``MatchingGeometrySourceDataset`` (``source`` + ``target``)."""
    while True:
        if 'dataset' in dataset_cfg:
            dataset_cfg = dataset_cfg['dataset']
        elif 'source' in dataset_cfg and 'target' in dataset_cfg:
            dataset_cfg = dataset_cfg['source']
        else:
            return dataset_cfg


def branch_dataset_cfgs(dataset_cfg: dict, branches: Optional[Sequence[str]] = None
                        ) -> List[Tuple[Optional[str], dict]]:
    """``[(branch, leaf dataset config)]`` of a phase's dataset config.

    A ``SemiSupervisedDataset`` (any config with ``labelled`` / ``unlabelled``)
    gives its branches in :data:`BRANCHES` order, restricted to ``branches`` when
    given; any other dataset gives ``[(None, leaf)]``.
    """
    while 'dataset' in dataset_cfg and not any(b in dataset_cfg for b in BRANCHES):
        dataset_cfg = dataset_cfg['dataset']
    present = [b for b in BRANCHES
               if dataset_cfg.get(b) is not None] if _is_branched(dataset_cfg) else []
    if not present:
        if branches:
            raise ValueError(f'--branch {" ".join(branches)} needs a dataset with '
                             f'branches (SemiSupervisedDataset); this one is '
                             f'{dataset_cfg.get("type")}')
        return [(None, leaf_dataset_cfg(dataset_cfg))]
    missing = [b for b in branches or () if b not in present]
    if missing:
        raise ValueError(f'the {dataset_cfg.get("type")} has no branch '
                         f'{", ".join(missing)}; it has {", ".join(present)}')
    return [(b, leaf_dataset_cfg(dataset_cfg[b])) for b in present
            if not branches or b in branches]


def _is_branched(dataset_cfg: dict) -> bool:
    return 'labelled' in dataset_cfg or 'unlabelled' in dataset_cfg


def loading_only_dataset(dataset_cfg: dict, scale: Optional[Sequence[int]] = None):
    """The dataset with a loading-only pipeline (optionally resizing to ``scale``,
    ``(W, H)``); ``ori_shape`` stays the file's size."""
    from mmdepthsem.registry import DATASETS
    dataset_cfg = ConfigDict(dataset_cfg).copy()
    pipeline = [dict(type='LoadImageFromFile')]
    if scale is not None:
        pipeline.append(dict(type='Resize', scale=tuple(scale), keep_ratio=False))
    dataset_cfg.pipeline = pipeline + [dict(type='PackDepthSemInputs')]
    for key in ('pseudo_label_dir', 'pseudo_conf_dir'):
        dataset_cfg.pop(key, None)
    return DATASETS.build(dataset_cfg)


# ---------------------------------------------------------------- model
def build_depth_model(config: Config, checkpoint: str, device: str):
    """The config's self-supervised depth network with the checkpoint's weights."""
    from mmdepthsem.models.estimators.self_supervised_estimator import \
        SelfSupervisedDepthEstimator
    from mmdepthsem.utils.tool_config import build_model_with_weights, load_weights
    if not osp.isfile(osp.expanduser(checkpoint)):
        raise SystemExit(f'error: checkpoint {checkpoint} does not exist')
    model = build_model_with_weights(config.model, checkpoint=None, device='cpu')
    if not isinstance(model, SelfSupervisedDepthEstimator):
        raise SystemExit(f'error: the config\'s model is {type(model).__name__}, not '
                         'a SelfSupervisedDepthEstimator')
    try:
        load_weights(model, checkpoint)
    except Exception as err:
        hint = '' if zipfile.is_zipfile(osp.expanduser(checkpoint)) else \
            ': not a PyTorch zip archive (corrupt or truncated?)'
        raise SystemExit(f'error: could not load the checkpoint {checkpoint}{hint} '
                         f'({type(err).__name__}): {err}')
    return model.to(device).eval()


@torch.no_grad()
def estimate_depth(model, item: dict) -> np.ndarray:
    """``(H, W)`` float32 depth (metres, up to scale) of one packed sample, at its
    original size, through the model's data preprocessor and ``predict``."""
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]), False)
    sample = model.predict(data['inputs'], data['data_samples'])[0]
    return sample.pred_depth_map.data[0].float().cpu().numpy()


# ---------------------------------------------------------------- files
def depth_to_png(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 metres × 256 (non-finite and negative -> 0, clipped)."""
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0)
    return np.clip(np.round(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)


def depth_to_normalised_disparity8(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint8 ``floor(255 · n)``, ``n`` the disparity ``1 / depth``
    min–max normalised over the valid pixels of the whole map (invalid -> 0; a
    constant map -> 0), as SDE-Seg's release stores its estimates."""
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, np.uint8)
    if valid.any():
        inv = 1.0 / depth[valid].astype(np.float64)
        span = inv.max() - inv.min()
        norm = (inv - inv.min()) / span if span > 0 else np.zeros_like(inv)
        out[valid] = np.floor(norm * 255.0).astype(np.uint8)
    return out


def depth_to_sigmoid_disparity16(depth: np.ndarray, min_depth: float,
                                 max_depth: float) -> np.ndarray:
    """Metres -> uint16 ``floor(65535 · σ)`` of the disparity the network's sigmoid
    produced, ``σ = (1/D − 1/max_depth) / (1/min_depth − 1/max_depth)`` (the
    inverse of :func:`~mmdepthsem.models.utils.disp_to_depth`), clipped to
    ``[0, 1]``; invalid pixels 0."""
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, np.uint16)
    lo, hi = 1.0 / max_depth, 1.0 / min_depth
    sigma = (1.0 / depth[valid].astype(np.float64) - lo) / (hi - lo)
    out[valid] = np.floor(np.clip(sigma, 0.0, 1.0) * 65535.0).astype(np.uint16)
    return out


def write_estimate(path: str, depth: np.ndarray, fmt: str,
                   depth_range: Tuple[float, float] = (0.1, 100.0)) -> None:
    """Write through a temporary file so an interrupted run leaves no torn file.

    ``depth_range``: the model's ``(min_depth, max_depth)`` for
    ``sigmoid_disparity16``."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    ext = osp.splitext(path)[1]
    tmp = f'{path}.tmp{ext}'
    if fmt != 'npy':
        image = {'png': depth_to_png,
                 'disparity8': depth_to_normalised_disparity8,
                 'sigmoid_disparity16': lambda d: depth_to_sigmoid_disparity16(
                     d, *depth_range)}[fmt](depth)
        if not cv2.imwrite(tmp, image):
            raise OSError(f'could not write {tmp}')
    else:
        depth = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
        with open(tmp, 'wb') as f:
            np.save(f, depth)
    os.replace(tmp, path)


# ---------------------------------------------------------------- main
def main(argv: Optional[Sequence[str]] = None) -> Tuple[int, int]:
    args = parse_args(argv)
    from mmdepthsem.utils import register_all_modules
    register_all_modules()  # sets the default scope, which building needs
    model_cfg = Config.fromfile(args.config)
    same = args.data_config is None or \
        osp.abspath(args.data_config) == osp.abspath(args.config)
    data_cfg = model_cfg if same else Config.fromfile(args.data_config)
    if args.cfg_options:
        data_cfg.merge_from_dict(args.cfg_options)
    if args.model_cfg_options:
        model_cfg.merge_from_dict(args.model_cfg_options)
    try:
        datasets = [(phase, branch, cfg) for phase in args.phase
                    for branch, cfg in branch_dataset_cfgs(
                        data_cfg[f'{phase}_dataloader'].dataset, args.branch)]
    except (KeyError, AttributeError) as err:
        raise SystemExit(f'error: the data config has no dataset for a phase of '
                         f'{args.phase}: {err}')
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    model = build_depth_model(model_cfg, args.checkpoint, args.device)
    config_name = osp.splitext(osp.basename(args.config))[0]
    written = kept = 0
    done = set()  # output paths of this run: each sample once across branches
    for phase, branch, dataset_cfg in datasets:
        dataset = loading_only_dataset(dataset_cfg, args.scale)
        out_dir = args.out_dir or osp.join(dataset_cfg.get('data_root', ''),
                                           'depth_estimates', config_name)
        name = phase if branch is None else f'{phase}/{branch}'
        print(f'{name}: {len(dataset)} images -> {out_dir}')
        progress = ProgressBar(len(dataset))
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            suffix = 'npy' if args.format == 'npy' else 'png'
            path = osp.join(out_dir, f'{info["sample_name"]}.{suffix}')
            if path in done:
                progress.update()
                continue
            done.add(path)
            if osp.exists(path):
                kept += 1
            else:
                write_estimate(path, estimate_depth(model, dataset[index]),
                               args.format, (model.min_depth, model.max_depth))
                written += 1
            progress.update()
        sys.stdout.write('\n')
    print(f'wrote {written} depth estimates, kept {kept} existing ones')
    return written, kept


if __name__ == '__main__':
    main()
