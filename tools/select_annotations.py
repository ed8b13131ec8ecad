"""SDE-Seg's automatic selection of the images to annotate (§3.2, Algorithm 1).

    python tools/select_annotations.py SDE_CONFIG SDE_CHECKPOINT --work-dir DIR \\
        --out SPLIT.txt [--steps 25 50 100 200 372 744] [--lambda-e 1000] \\
        [--feature-block 3] [--student-config CFG] [--student-iters 4000 ...] \\
        [--seed 0] [--pool-split train] [--cfg-options k=v ...] \\
        [--student-cfg-options k=v ...] [--batch-size 4] [--device cuda]

The pool is the SDE config's ``train_dataloader.dataset`` (``--pool-split`` changes
its ``split``), read with a test-time pipeline: the image loader, the test
pipeline's ``Resize`` (if any) and ``PackDepthSemInputs``. The trained SDE model
(any ``SelfSupervisedDepthEstimator``) gives, once per pool image and cached in the
work dir:

- ``sde_features_block{b}.npy``: block ``b``'s output average-pooled to 4×8 cells
  (rows × columns; the paper's "8×4" is width × height), ``(N, C, 4, 8)``;
- ``sde_disparity/<sample_name>.npy``: the scale-0 sigmoid disparity at the SDE
  input size (padding removed), the student's target and the teacher of eq. 3;
- ``pool.json``: sample names and image paths, in pool order.

Selection then follows :func:`mmdepthsem.apis.annotation_selection.run_selection`:
the student (``--student-config``, trained with the mmengine Runner on the
selected images, from scratch at every step) is trained when ``|G_A|`` reaches each
cumulative size but the last. ``selection_state.json`` is saved after every step and
every student, so rerunning the same command continues a killed run and writes the
same split. ``SPLIT.txt`` lists the selected sample names in selection order.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import tempfile
import time
from copy import deepcopy
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

from mmdepthsem.apis.annotation_selection import (SelectionState, check_step_sizes,
                                                  pool_features, run_selection,
                                                  standardise_features,
                                                  uncertainty_error)
from mmdepthsem.utils.tool_config import (build_model_with_weights, dataset_pipeline,
                                          load_tool_config)

STATE_FILE = 'selection_state.json'
POOL_FILE = 'pool.json'
DISPARITY_DIR = 'sde_disparity'
CACHE_MARKER = 'sde_cache.json'
FEATURE_CELLS = (4, 8)  # (rows, columns) = the paper's 8x4 (width x height)
DEFAULT_STUDENT = 'configs/sdeseg/selection/resnet50_side_student.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Select images to annotate with SDE features and a depth student')
    parser.add_argument('config', help='config of the trained SDE model')
    parser.add_argument('checkpoint', help='weights of the trained SDE model')
    parser.add_argument('--work-dir', required=True,
                        help='caches, selection state and students (resumable)')
    parser.add_argument('--out', required=True, help='split file to write')
    parser.add_argument('--steps', type=int, nargs='+',
                        default=[25, 50, 100, 200, 372, 744],
                        help='cumulative selection sizes')
    parser.add_argument('--lambda-e', type=float, default=1000.0,
                        help='weight of the student error in eq. 4')
    parser.add_argument('--feature-block', type=int, default=3,
                        help='depth-decoder block whose output gives the features '
                        '(blocks run b = 4 .. 0, coarse to fine; 3 = the second)')
    parser.add_argument('--student-config', default=DEFAULT_STUDENT,
                        help='config of the SIDE student')
    parser.add_argument('--student-iters', type=int, nargs='+',
                        help='student iterations after each step but the last '
                        '(default 4000 * t: 4k, 8k, ...); one value is used for all')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the first image and of the students')
    parser.add_argument('--pool-split', help="override the pool dataset's `split`")
    parser.add_argument('--batch-size', type=int, default=4,
                        help='batch size of the SDE / student inference')
    parser.add_argument('--device', default=None, help='inference device')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the SDE config')
    parser.add_argument('--student-cfg-options', nargs='+', action=DictAction,
                        help='overrides of the student config')
    parser.add_argument('--stop-after-step', type=int, default=None,
                        help=argparse.SUPPRESS)  # debug: simulate a killed run
    return parser.parse_args(argv)


# ------------------------------------------------------------------- helpers
def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp.', dir=folder)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save_npy(array: np.ndarray, path: str) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp.', suffix='.npy', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            np.save(f, array)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def pool_dataset_cfg(cfg, pool_split: Optional[str] = None) -> ConfigDict:
    """The SDE config's training dataset, with a test-time pipeline.

    Wrappers (``dataset=...``) are unwrapped; the pipeline becomes the image loader,
    the test pipeline's ``Resize`` (if any) and ``PackDepthSemInputs``.
    """
    dataset = deepcopy(cfg.train_dataloader.dataset)
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    test = (cfg.get('test_dataloader') or cfg.get('val_dataloader') or {})
    resize = [t for t in dataset_pipeline(test.get('dataset'))
              if t.get('type') == 'Resize']
    dataset.pipeline = [dict(type='LoadImageFromFile'), *resize[:1],
                        dict(type='PackDepthSemInputs')]
    dataset.test_mode = True
    if pool_split is not None:
        dataset.split = pool_split
    return dataset


def build_pool(dataset_cfg: ConfigDict):
    from mmdepthsem.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    names = [dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))]
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    if len(set(names)) != len(names):
        raise ValueError('the pool has repeated sample names')
    return dataset, names, paths


def batches(dataset, batch_size: int):
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0,
                      collate_fn=pseudo_collate)


def unpadded(maps: torch.Tensor, sample, stride: int = 1) -> torch.Tensor:
    """Crop the data preprocessor's bottom/right padding from ``(C, h, w)`` maps
    at ``stride`` (``img_shape`` is the unpadded input size)."""
    height, width = sample.metainfo['img_shape'][:2]
    return maps[..., :math.ceil(height / stride), :math.ceil(width / stride)]


def disparity_path(work_dir: str, name: str) -> str:
    return osp.join(work_dir, DISPARITY_DIR, name + '.npy')


# ------------------------------------------------------------- SDE caching
def cache_sde_outputs(args, cfg, dataset, names: List[str], paths: List[str],
                      device: str) -> np.ndarray:
    """SDE features ``(N, C, 4, 8)`` (computed once, then read from the cache)."""
    work_dir = args.work_dir
    features_file = osp.join(work_dir, f'sde_features_block{args.feature_block}.npy')
    marker_file = osp.join(work_dir, CACHE_MARKER)
    marker = dict(checkpoint=osp.abspath(args.checkpoint), names=names,
                  feature_block=args.feature_block, cells=list(FEATURE_CELLS))
    if osp.exists(marker_file) and osp.exists(features_file):
        with open(marker_file) as f:
            if json.load(f) == marker:
                print(f'SDE cache: reusing {features_file}', flush=True)
                return np.load(features_file)
    model = build_model_with_weights(cfg.model, args.checkpoint, device=device)
    if not hasattr(model, 'decode'):
        raise TypeError(f'{type(model).__name__} has no decode(); the SDE model must '
                        'be a SelfSupervisedDepthEstimator')
    pool = dict(samples=[dict(sample_name=n, img_path=p) for n, p in zip(names, paths)])
    atomic_write_text(json.dumps(pool), osp.join(work_dir, POOL_FILE))
    block = args.feature_block
    stride = 2 ** block
    feats = []
    done = 0
    with torch.no_grad():
        for batch in batches(dataset, args.batch_size):
            data = model.data_preprocessor(batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            decoded, _ = model.decode(inputs)
            if block not in decoded['features']:
                raise KeyError(f'--feature-block {block}: the decoder has blocks '
                               f'{sorted(decoded["features"])}')
            disp = decoded['outputs'][0]
            if disp.shape[-2:] != inputs.shape[-2:]:
                disp = F.interpolate(disp, size=inputs.shape[-2:], mode='bilinear',
                                     align_corners=False)
            for i, sample in enumerate(samples):
                feat = unpadded(decoded['features'][block][i], sample, stride)
                feats.append(pool_features(feat[None], FEATURE_CELLS)[0].cpu().numpy())
                name = names[done + i]
                atomic_save_npy(unpadded(disp[i, 0], sample).cpu().numpy().astype(
                    np.float32), disparity_path(work_dir, name))
            done += len(samples)
            print(f'SDE cache: {done}/{len(names)} images', flush=True)
    features = np.stack(feats).astype(np.float32)
    atomic_save_npy(features, features_file)
    atomic_write_text(json.dumps(marker), marker_file)
    del model
    return features


# ------------------------------------------------------------------ student
def student_iters(args, num_students: int) -> List[int]:
    iters = args.student_iters or [4000 * (t + 1) for t in range(num_students)]
    if len(iters) == 1:
        iters = iters * num_students
    if len(iters) != num_students:
        raise SystemExit(f'--student-iters: {num_students} values needed (one per '
                         f'step but the last), got {len(iters)}')
    return [int(i) for i in iters]


def train_student(args, names: List[str], selected: List[int], step: int,
                  iters: int):
    """Train the SIDE student of ``step`` with the mmengine Runner; the model."""
    from mmengine.runner import Runner

    from mmdepthsem.registry import RUNNERS
    step_dir = osp.abspath(osp.join(args.work_dir, 'students', f'step{step}'))
    selection_file = osp.join(step_dir, 'selection.txt')
    atomic_write_text(''.join(names[i] + '\n' for i in selected), selection_file)
    cfg = load_tool_config(args.student_config, args.student_cfg_options, step_dir)
    dataset = cfg.train_dataloader.dataset
    dataset.update(data_root='', ann_file=osp.abspath(osp.join(args.work_dir, POOL_FILE)),
                   disparity_dir=osp.abspath(osp.join(args.work_dir, DISPARITY_DIR)),
                   selection_file=selection_file)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader',
                'test_cfg', 'test_evaluator'):
        cfg[key] = None
    for scheduler in cfg.get('param_scheduler') or []:
        if 'end' in scheduler:
            scheduler['end'] = iters
    hooks = cfg.get('default_hooks') or {}
    if hooks.get('checkpoint'):
        hooks.checkpoint.interval = iters
    if hooks.get('logger'):
        hooks.logger.interval = min(hooks.logger.get('interval', 50), iters)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=args.seed + step)
    cfg.experiment_name = f'student_step{step}_{os.getpid()}_{time.time_ns()}'
    cfg.load_from, cfg.resume = None, False
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    model = getattr(runner.model, 'module', runner.model)
    return model.eval(), float(loss)


def student_errors(model, dataset, names: List[str], work_dir: str,
                   batch_size: int) -> np.ndarray:
    """``E(i)`` (eq. 3) of the student against the cached SDE disparities, ``(N,)``."""
    errors = []
    done = 0
    with torch.no_grad():
        for batch in batches(dataset, batch_size):
            data = model.data_preprocessor(batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            depth = model(inputs, samples, mode='tensor')[0]
            depth = F.interpolate(depth, size=inputs.shape[-2:], mode='bilinear',
                                  align_corners=False)
            for i, sample in enumerate(samples):
                side = unpadded(depth[i], sample)[None]
                sde = torch.from_numpy(np.load(disparity_path(
                    work_dir, names[done + i])))[None, None].to(side)
                if side.shape != sde.shape:
                    side = F.interpolate(side, size=sde.shape[-2:], mode='bilinear',
                                         align_corners=False)
                errors.append(float(uncertainty_error(sde, side)[0]))
            done += len(samples)
    return np.asarray(errors, dtype=np.float64)


# --------------------------------------------------------------------- main
def main(argv: Optional[List[str]] = None) -> Tuple[SelectionState, List[str]]:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = load_tool_config(args.config, args.cfg_options, args.work_dir)
    init_default_scope(cfg.get('default_scope', 'mmdepthsem'))
    dataset, names, paths = build_pool(pool_dataset_cfg(cfg, args.pool_split))
    sizes = check_step_sizes(args.steps, len(names))
    iters = student_iters(args, len(sizes) - 1)
    print(f'pool: {len(names)} images; steps {list(sizes)}; student iterations '
          f'{iters}; lambda_E = {args.lambda_e}', flush=True)

    features = standardise_features(
        cache_sde_outputs(args, cfg, dataset, names, paths, device))

    state_path = osp.join(args.work_dir, STATE_FILE)
    state = SelectionState(pool_names=names, step_sizes=list(sizes),
                           lambda_e=float(args.lambda_e), seed=int(args.seed))
    if osp.exists(state_path):
        saved = SelectionState.load(state_path)
        state.check_matches(saved)
        state = saved
        print(f'resuming: step {state.step}/{len(sizes)}, |G_A| = '
              f'{len(state.selected)}', flush=True)

    def train_and_score(selected: List[int], step: int):
        model, loss = train_student(args, names, selected, step, iters[step - 1])
        print(f'step {step}: |G_A| = {len(selected)}, student loss {loss:.6f}',
              flush=True)
        errors = student_errors(model, dataset, names, args.work_dir, args.batch_size)
        atomic_save_npy(errors, osp.join(args.work_dir, 'students', f'step{step}',
                                         'errors.npy'))
        return errors, loss

    state = run_selection(features, state, train_and_score, state_path,
                          stop_after_step=args.stop_after_step,
                          log=lambda msg: print(msg, flush=True))
    selected = [names[i] for i in state.selected]
    if not state.finished:
        print(f'stopped after step {state.step} (--stop-after-step); rerun to '
              'continue', flush=True)
        return state, selected
    atomic_write_text(''.join(n + '\n' for n in selected), args.out)
    print(f'wrote {len(selected)} names to {args.out}', flush=True)
    return state, selected


if __name__ == '__main__':
    main(sys.argv[1:])
