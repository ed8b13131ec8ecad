"""Automatic data selection for annotation of SDE-Seg (§3.2, Algorithm 1, §4.4).

The pool ``G`` of ``N`` unlabelled images is described by

- SDE features ``Φ_i``: the output of one depth-decoder block of the trained
  self-supervised depth (SDE) network, average-pooled to ``4 × 8`` cells (rows ×
  columns; the paper's "8×4" is width × height for 1024×512 images), standardised
  per channel over the pool and flattened (:func:`pool_features`,
  :func:`standardise_features`);
- the student uncertainty ``E(i)`` (eq. 3): the mean absolute log-disparity error
  between the SDE teacher and a single-image depth (SIDE) student trained on the
  current selection ``G_A`` (:func:`uncertainty_error`).

Images are added one at a time by farthest-point sampling (eq. 2) in the first
step and by farthest-point sampling plus ``λ_E · E(i)`` (eq. 4) afterwards
(:func:`selection_scores`, :func:`select_next`). The selection grows to the
cumulative sizes ``s_1 < s_2 < ... < s_T`` (:func:`check_step_sizes`); **the student
is trained when ``|G_A|`` reaches ``s_t``** for ``t < T`` (Algorithm 1's line 5,
``k == Σ n_t'``, fires before the ``k``-th image is added, i.e. at ``s_t - 1``
images; this is the corrected reading), so it is trained ``T - 1`` times and the
last step's errors come from the student trained on ``s_{T-1}`` images.

:func:`run_selection` drives the loop with a caller-supplied student callback and
saves a :class:`SelectionState` (JSON, atomic) after every step and every student,
so that a killed run resumed from the same work dir writes the same selection: the
first image is the only random choice and is derived from the seed alone, ties of
the argmax go to the lowest pool index, and the student errors of the last trained
step are stored in the state.
"""
import json
import os
import os.path as osp
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'pool_features', 'standardise_features', 'uncertainty_error', 'min_distances',
    'selection_scores', 'select_next', 'check_step_sizes', 'student_sizes',
    'first_index', 'SelectionState', 'run_selection', 'PAPER_STEP_SIZES',
    'PAPER_STUDENT_ITERS'
]

#: Cumulative selection sizes of the paper on Cityscapes (§4.4).
PAPER_STEP_SIZES = (25, 50, 100, 200, 372, 744)
#: Student iterations after each but the last step (§4.4).
PAPER_STUDENT_ITERS = (4000, 8000, 12000, 16000, 20000)

ArrayLike = Union[np.ndarray, Tensor]


# ------------------------------------------------------------------ features
def pool_features(feature_map: Tensor, size: Tuple[int, int] = (4, 8)) -> Tensor:
    """Average-pool a feature map to ``size`` cells and keep the cell layout.

    Args:
        feature_map: Decoder block output ``(B, C, H, W)``.
        size: Output cells ``(rows, columns)``; ``(4, 8)`` is the paper's "8×4"
            (width × height) for the 2:1 Cityscapes frames.

    Returns:
        ``(B, C, rows, columns)`` float32 cell means (adaptive average pooling, so
        sizes that are not multiples of ``size`` are covered by overlapping bins).
    """
    if feature_map.dim() != 4:
        raise ValueError(f'pool_features: expected (B, C, H, W), got '
                         f'{tuple(feature_map.shape)}')
    return F.adaptive_avg_pool2d(feature_map.float(), tuple(size))


def standardise_features(features: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """Standardise pooled features per channel over the dataset, then flatten.

    For ``(N, C, h, w)`` input every channel ``c`` is shifted and scaled by the
    mean and (population) standard deviation of all its ``N · h · w`` values; a
    ``(N, D)`` input is treated as ``h = w = 1`` (per-dimension statistics).
    A constant channel (std below ``eps``) becomes zero.

    Args:
        features: Pooled features of the whole pool, ``(N, C, h, w)`` or ``(N, D)``.
        eps: Smallest standard deviation divided by.

    Returns:
        ``(N, C · h · w)`` float64 array, channel-major (``c, row, column``).
    """
    feats = features.detach().cpu().numpy() if isinstance(features, Tensor) \
        else np.asarray(features)
    feats = feats.astype(np.float64)
    if feats.ndim == 2:
        feats = feats[:, :, None, None]
    if feats.ndim != 4:
        raise ValueError(f'standardise_features: expected (N, C, h, w) or (N, D), got '
                         f'{feats.shape}')
    if feats.shape[0] == 0:
        raise ValueError('standardise_features: empty feature set')
    mean = feats.mean(axis=(0, 2, 3), keepdims=True)
    std = feats.std(axis=(0, 2, 3), keepdims=True)
    std = np.where(std < eps, 1.0, std)
    return ((feats - mean) / std).reshape(feats.shape[0], -1)


# --------------------------------------------------------------- uncertainty
def uncertainty_error(sde_disp: Tensor, side_disp: Tensor,
                      valid: Optional[Tensor] = None) -> Tensor:
    """Student uncertainty ``E(i)`` of eq. 3, per image.

    ``E = mean over pixels of |log(1 + disp_SDE) - log(1 + disp_SIDE)|`` with the
    sigmoid disparities of teacher and student (both in ``(0, 1)``, unitless).

    Args:
        sde_disp: Teacher disparity ``(B, 1, H, W)`` or ``(B, H, W)``.
        side_disp: Student disparity of the same shape.
        valid: Optional bool mask of the same shape; pixels outside it are left
            out of the mean (e.g. the ego-vehicle hood). An image without a valid
            pixel raises a ``ValueError``.

    Returns:
        ``(B,)`` float64 errors.
    """
    if sde_disp.shape != side_disp.shape:
        raise ValueError(f'uncertainty_error: teacher {tuple(sde_disp.shape)} and '
                         f'student {tuple(side_disp.shape)} disparities differ')
    batch = sde_disp.shape[0]
    diff = (torch.log1p(sde_disp.double()) - torch.log1p(side_disp.double())).abs()
    diff = diff.reshape(batch, -1)
    if valid is None:
        return diff.mean(dim=1)
    if valid.shape != sde_disp.shape:
        raise ValueError(f'uncertainty_error: valid {tuple(valid.shape)} does not '
                         f'match the disparities {tuple(sde_disp.shape)}')
    valid = valid.reshape(batch, -1).bool()
    count = valid.sum(dim=1)
    if bool((count == 0).any()):
        raise ValueError('uncertainty_error: an image has no valid pixel')
    return (diff * valid).sum(dim=1) / count


# ------------------------------------------------------------------ selection
def _as_array(values: ArrayLike) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def _distances_to(features: np.ndarray, index: int) -> np.ndarray:
    """L2 distances ``(N,)`` of every pool image to image ``index``."""
    return np.sqrt(((features - features[index]) ** 2).sum(axis=1))


def min_distances(features: ArrayLike, selected_idx: Sequence[int]) -> np.ndarray:
    """``min_{j ∈ G_A} ||Φ_i - Φ_j||_2`` for every pool image ``i`` (eq. 2's inner term).

    Args:
        features: ``(N, D)`` standardised features.
        selected_idx: Indices of ``G_A`` (at least one).

    Returns:
        ``(N,)`` float64 distances (0 for the selected images).
    """
    features = _as_array(features)
    if len(selected_idx) == 0:
        raise ValueError('min_distances: the selection is empty; pick the first '
                         'image with first_index()')
    dist = np.full(features.shape[0], np.inf)
    for j in selected_idx:
        dist = np.minimum(dist, _distances_to(features, int(j)))
    return dist


def selection_scores(features: ArrayLike,
                     selected_idx: Sequence[int],
                     errors: Optional[ArrayLike] = None,
                     lambda_e: float = 1000.0,
                     distances: Optional[np.ndarray] = None) -> np.ndarray:
    """Scores of eq. 2 (``errors=None``) or eq. 4 for every pool image.

    ``score_i = min_{j ∈ G_A} ||Φ_i - Φ_j||_2 + λ_E · E(i)``; selected images get
    ``-inf`` so that they are never chosen again.

    Args:
        features: ``(N, D)`` standardised features.
        selected_idx: Indices of ``G_A``.
        errors: ``(N,)`` student errors ``E`` (eq. 3), or None for eq. 2.
        lambda_e: ``λ_E`` (1000 in the paper).
        distances: Precomputed :func:`min_distances` (an optimisation of the
            incremental loop); computed here when None.

    Returns:
        ``(N,)`` float64 scores.
    """
    if distances is None:
        distances = min_distances(features, selected_idx)
    scores = np.array(distances, dtype=np.float64)
    if errors is not None:
        errors = _as_array(errors)
        if errors.shape != scores.shape:
            raise ValueError(f'selection_scores: {errors.shape[0]} errors for '
                             f'{scores.shape[0]} images')
        scores = scores + lambda_e * errors
    scores[np.asarray(list(selected_idx), dtype=np.int64)] = -np.inf
    return scores


def select_next(features: ArrayLike,
                selected_idx: Sequence[int],
                errors: Optional[ArrayLike] = None,
                lambda_e: float = 1000.0,
                distances: Optional[np.ndarray] = None) -> int:
    """The unselected image of the highest :func:`selection_scores` (eq. 2 / 4).

    Ties go to the lowest index (``np.argmax``), which keeps runs reproducible.
    """
    scores = selection_scores(features, selected_idx, errors, lambda_e, distances)
    if len(selected_idx) >= scores.shape[0]:
        raise ValueError('select_next: every image is selected already')
    return int(np.argmax(scores))


def first_index(pool_size: int, seed: int) -> int:
    """The uniformly random first image (Algorithm 1, line 2), from the seed alone.

    ``np.random.default_rng(seed).integers(pool_size)``, so a resumed run draws the
    same image without any saved generator state.
    """
    if pool_size <= 0:
        raise ValueError(f'first_index: empty pool ({pool_size})')
    return int(np.random.default_rng(seed).integers(pool_size))


def check_step_sizes(step_sizes: Sequence[int], pool_size: int) -> Tuple[int, ...]:
    """Validate cumulative sizes ``s_1 < ... < s_T <= N`` (``s_1 >= 1``)."""
    sizes = tuple(int(s) for s in step_sizes)
    if not sizes:
        raise ValueError('step sizes: at least one step is needed')
    if sizes[0] < 1 or any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f'step sizes must be cumulative and strictly increasing '
                         f'from >= 1, got {sizes}')
    if sizes[-1] > pool_size:
        raise ValueError(f'step sizes: the last size {sizes[-1]} exceeds the pool of '
                         f'{pool_size} images')
    return sizes


def student_sizes(step_sizes: Sequence[int]) -> Tuple[int, ...]:
    """``|G_A|`` at which a student is trained: every cumulative size but the last."""
    return tuple(int(s) for s in step_sizes)[:-1]


# ---------------------------------------------------------------------- state
@dataclass
class SelectionState:
    """Everything a resumed selection needs, saved as JSON after every change.

    Attributes:
        pool_names: Sample names of the pool, in pool-index order (the resumed
            run checks that its pool is the same).
        step_sizes: Cumulative sizes ``s_1 .. s_T``.
        lambda_e: ``λ_E``.
        seed: Seed of the first image (and of the students' training).
        selected: Pool indices of ``G_A`` in selection order.
        step: Number of completed steps (``|G_A| == s_step``); 0 before step 1.
        errors_step: Step whose student produced ``errors`` (0: none yet).
        errors: ``(N,)`` student errors ``E`` of the student trained at
            ``|G_A| = s_errors_step``, as a list (JSON floats round-trip exactly).
        student_loss: Final training loss of each trained student, by step.
    """

    pool_names: List[str]
    step_sizes: List[int]
    lambda_e: float
    seed: int
    selected: List[int] = field(default_factory=list)
    step: int = 0
    errors_step: int = 0
    errors: Optional[List[float]] = None
    student_loss: dict = field(default_factory=dict)
    version: int = 1

    @property
    def finished(self) -> bool:
        return self.step == len(self.step_sizes)

    def save(self, path: str) -> None:
        """Write the state atomically (temporary file in the same folder, then
        ``os.replace``), so a kill leaves the previous state whole."""
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.selection_state.', dir=folder)
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(asdict(self), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    @classmethod
    def load(cls, path: str) -> 'SelectionState':
        with open(path) as f:
            data = json.load(f)
        data['student_loss'] = {int(k): v for k, v in data.get('student_loss',
                                                               {}).items()}
        return cls(**data)

    def check_matches(self, other: 'SelectionState') -> None:
        """Raise when a saved state belongs to a different selection setting."""
        for key in ('pool_names', 'step_sizes', 'lambda_e', 'seed'):
            if getattr(self, key) != getattr(other, key):
                mine = getattr(self, key)
                theirs = getattr(other, key)
                if key == 'pool_names':
                    mine, theirs = f'{len(mine)} names', f'{len(theirs)} names'
                raise ValueError(
                    f'the saved selection state has {key}={mine}, this run '
                    f'{theirs}; use another --work-dir or the same settings')


#: ``train_and_score(selected_indices, step) -> ((N,) errors E, final loss)``.
StudentCallback = Callable[[List[int], int], Tuple[np.ndarray, Optional[float]]]


def run_selection(features: ArrayLike,
                  state: SelectionState,
                  train_and_score: StudentCallback,
                  state_path: Optional[str] = None,
                  stop_after_step: Optional[int] = None,
                  log: Callable[[str], None] = print) -> SelectionState:
    """Run (or resume) Algorithm 1 with the corrected student schedule.

    For every step ``t = 1 .. T``: add images by eq. 2 (``t = 1``) or eq. 4 until
    ``|G_A| = s_t``, save the state; then, for ``t < T``, train the student on
    ``G_A`` (``train_and_score``), store its errors on the whole pool and save again.
    A ``state`` loaded from a previous run continues where it stopped.

    Args:
        features: ``(N, D)`` standardised features (:func:`standardise_features`).
        state: A fresh or loaded :class:`SelectionState` (modified in place).
        train_and_score: Student callback; gets the selected indices (in order) and
            the step ``t`` and returns the ``(N,)`` errors ``E`` over the pool and
            the final training loss (or None).
        state_path: Where the state is saved (not saved when None).
        stop_after_step: Debug: return right after step ``t``'s selection is saved
            (before its student), to simulate a killed run.
        log: Progress printer.

    Returns:
        ``state``, with ``step == T`` unless stopped early.
    """
    features = _as_array(features)
    num = features.shape[0]
    if num != len(state.pool_names):
        raise ValueError(f'run_selection: {num} feature rows for '
                         f'{len(state.pool_names)} pool images')
    sizes = check_step_sizes(state.step_sizes, num)

    def save():
        if state_path is not None:
            state.save(state_path)

    if not state.selected:
        state.selected = [first_index(num, state.seed)]
        log(f'selection: first image {state.pool_names[state.selected[0]]} '
            f'(seed {state.seed})')
        save()
    distances = min_distances(features, state.selected)
    while not state.finished:
        if state.step >= 1 and state.errors_step < state.step:
            # The student of the last completed step (also after a resume).
            state = _train_student(state, state.step, train_and_score, num, log)
            save()
        step = state.step + 1
        target = sizes[step - 1]
        errors = None
        if step > 1:
            if state.errors_step != step - 1 or state.errors is None:
                raise RuntimeError(f'run_selection: step {step} needs the errors of '
                                   f'the student of step {step - 1}')
            errors = np.asarray(state.errors, dtype=np.float64)
        while len(state.selected) < target:
            index = select_next(features, state.selected, errors, state.lambda_e,
                                distances)
            state.selected.append(index)
            distances = np.minimum(distances, _distances_to(features, index))
        state.step = step
        save()
        log(f'selection: step {step}/{len(sizes)} done, |G_A| = '
            f'{len(state.selected)}')
        if stop_after_step is not None and step >= stop_after_step:
            return state
    return state


def _train_student(state: SelectionState, step: int,
                   train_and_score: StudentCallback, num: int,
                   log: Callable[[str], None]) -> SelectionState:
    """Train the student of ``step`` on ``G_A`` and store its errors in ``state``."""
    log(f'selection: training the student of step {step} on '
        f'|G_A| = {len(state.selected)} images')
    errors, loss = train_and_score(list(state.selected), step)
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    if errors.shape[0] != num or not np.all(np.isfinite(errors)):
        raise ValueError(f'the student of step {step} returned {errors.shape[0]} '
                         f'errors (finite: {bool(np.all(np.isfinite(errors)))}) for '
                         f'{num} images')
    state.errors = [float(e) for e in errors]
    state.errors_step = step
    state.student_loss[step] = None if loss is None else float(loss)
    log(f'selection: step {step} student loss {loss}, mean E = '
        f'{float(errors.mean()):.6f}')
    return state
