"""Matching Geometry Sampling (SDE-Seg §3.5.3, eq. 22–23) for cross-domain DepthMix.

For a target sample ``i`` and ``|C|`` random source candidates, the source sample with
the smallest geometric difference

    G(i, j) = mean over pixels | log(1 + 1/D_i) - log(1 + 1/D_j) |          (eq. 22)

is used (eq. 23), so that Cross-Domain DepthMix pastes objects from source images seen
from a similar camera geometry. ``D`` are self-supervised depth *estimates* (one SDE
network per domain), compared

- on 1024×512 maps: a map of another size is resized (nearest neighbour, so invalid
  pixels are not blended into valid ones) to the size the comparison runs at;
- without the top 80 and bottom 100 rows (sky and ego-car hood artifacts of SDE). The
  row counts refer to a height of 512 and scale with the height of the compared maps:
  ``80 * H / 512`` and ``100 * H / 512``, rounded half up;
- after median normalisation: the two SDE networks have unrelated scales, so each map
  is divided by the median of its own valid depth in the kept rows (or by a given
  scale, e.g. a per-domain median, see ``normalise``);
- over the pixels valid in both maps: depth that is non-finite or ``<= 0`` (``0`` is
  the project's "invalid") is left out; a map without any valid pixel is an error.

The mean (not the sum) of eq. 22's L1 norm is used; the argmin is the same and the
values are comparable across map sizes.

Where the maps come from (``match_on``): ``'full_map'`` compares the whole estimate
files at ``match_size`` before any augmentation; ``'training_crop'`` (SDE-Seg's
released loader, ``loader/matching_geometry_loader.py``) compares the target sample
*as its pipeline left it* (the 512×512 crop, flipped or not) with each candidate run
through the source pipeline (its own crop and flip), and returns that very
candidate sample, so the mix pairs exactly the regions that were compared.
"""
import collections
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import mmengine.fileio as fileio
import numpy as np

from mmdepthsem.registry import DATASETS
from .transforms.loading import (DataFileError, _read_map,
                                 inverse_of_stored_disparity)

#: Rows left out at the top / bottom of a 512-row map (eq. 22).
EXCLUDE_TOP = 80
EXCLUDE_BOTTOM = 100
REFERENCE_HEIGHT = 512
#: Size (width, height) the paper compares depth maps at.
MATCH_SIZE = (1024, 512)
#: Where the compared maps come from (see :class:`MatchingGeometrySourceDataset`).
MATCH_ON = ('full_map', 'training_crop')


def excluded_rows(height: int,
                  exclude_top: int = EXCLUDE_TOP,
                  exclude_bottom: int = EXCLUDE_BOTTOM,
                  reference_height: int = REFERENCE_HEIGHT) -> Tuple[int, int]:
    """Rows to drop at the top and the bottom of a ``height``-row map.

    Args:
        height: Rows of the map.
        exclude_top, exclude_bottom: Rows to drop on a ``reference_height`` map.
        reference_height: Height the row counts refer to.

    Returns:
        ``(top, bottom)``, scaled proportionally and rounded half up (``(80, 100)``
        at 512 rows, ``(40, 50)`` at 256, ``(10, 13)`` at 64).

    Raises:
        ValueError: No row would be left.
    """
    top = int(np.floor(exclude_top * height / reference_height + 0.5))
    bottom = int(np.floor(exclude_bottom * height / reference_height + 0.5))
    if top < 0 or bottom < 0 or top + bottom >= height:
        raise ValueError(f'excluding {top} top and {bottom} bottom rows leaves no row '
                         f'of a {height}-row depth map')
    return top, bottom


def matching_log_disparity(depth: np.ndarray,
                           size: Optional[Tuple[int, int]] = None,
                           exclude_top: int = EXCLUDE_TOP,
                           exclude_bottom: int = EXCLUDE_BOTTOM,
                           reference_height: int = REFERENCE_HEIGHT,
                           scale: Optional[float] = None) -> np.ndarray:
    """The normalised log-disparity ``log(1 + 1/D)`` of eq. 22, ready to compare.

    Args:
        depth: ``(H, W)`` depth estimate (any unit; non-finite or ``<= 0`` invalid).
        size: ``(width, height)`` to resize to first (nearest neighbour); ``None``
            keeps the size.
        exclude_top, exclude_bottom, reference_height: See :func:`excluded_rows`
            (applied after resizing).
        scale: Divide the depth by this; ``None``: by the median of the valid depth
            in the kept rows.

    Returns:
        ``(H', W')`` float32 with ``H' = H - top - bottom``; NaN where invalid.

    Raises:
        ValueError: ``depth`` is not 2-D, ``scale`` is not positive, or no pixel of
            the kept rows is valid.
    """
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim != 2:
        raise ValueError(f'a depth map must be (H, W), got shape {depth.shape}')
    if size is not None and (depth.shape[1], depth.shape[0]) != tuple(size):
        depth = cv2.resize(depth, tuple(int(s) for s in size),
                           interpolation=cv2.INTER_NEAREST)
    top, bottom = excluded_rows(depth.shape[0], exclude_top, exclude_bottom,
                                reference_height)
    depth = depth[top:depth.shape[0] - bottom]
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        raise ValueError('the depth map has no valid (finite, > 0) pixel outside the '
                         'excluded rows')
    if scale is None:
        scale = float(np.median(depth[valid]))
    if not scale > 0:
        raise ValueError(f'the depth scale must be > 0, got {scale}')
    out = np.full(depth.shape, np.nan, np.float32)
    out[valid] = np.log1p(scale / depth[valid])
    return out


def log_disparity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean ``|a - b|`` over the pixels valid (not NaN) in both maps.

    Args:
        a, b: Same-shape outputs of :func:`matching_log_disparity`.

    Raises:
        ValueError: Different shapes, or no pixel valid in both.
    """
    if a.shape != b.shape:
        raise ValueError(f'log-disparity maps differ in shape: {a.shape} vs {b.shape}')
    diff = np.abs(a - b)
    both = ~np.isnan(diff)
    if not both.any():
        raise ValueError('the two depth maps have no pixel valid in both')
    return float(diff[both].mean(dtype=np.float64))


def geometric_distance(depth_i: np.ndarray,
                       depth_j: np.ndarray,
                       exclude_top: int = EXCLUDE_TOP,
                       exclude_bottom: int = EXCLUDE_BOTTOM,
                       reference_height: int = REFERENCE_HEIGHT,
                       scale_i: Optional[float] = None,
                       scale_j: Optional[float] = None) -> float:
    """Geometric difference ``G(i, j)`` of eq. 22 (mean over pixels).

    ``depth_j`` (the source candidate) is resized to the size of ``depth_i`` (the
    target) when they differ; the row exclusions scale with that height (see
    :func:`excluded_rows`). Both maps are median-normalised unless scales are given.
    Call it on 1024×512 maps (or maps resized to it) to follow the paper exactly.

    Args:
        depth_i: ``(H, W)`` target depth estimate (non-finite or ``<= 0`` invalid).
        depth_j: ``(H', W')`` source depth estimate.
        exclude_top, exclude_bottom: Rows dropped on a ``reference_height`` map.
        reference_height: Height the row counts refer to.
        scale_i, scale_j: Depth scales to divide by; ``None``: the map's median.

    Returns:
        The mean absolute log-disparity difference (``>= 0``).
    """
    depth_i = np.asarray(depth_i)
    if depth_i.ndim != 2:
        raise ValueError(f'a depth map must be (H, W), got shape {depth_i.shape}')
    size = (depth_i.shape[1], depth_i.shape[0])
    a = matching_log_disparity(depth_i, None, exclude_top, exclude_bottom,
                               reference_height, scale_i)
    b = matching_log_disparity(depth_j, size, exclude_top, exclude_bottom,
                               reference_height, scale_j)
    return log_disparity_distance(a, b)


def read_depth_estimate(path: str,
                        depth_scale: float = 256.0,
                        backend_args: Optional[dict] = None,
                        encoding: str = 'depth') -> np.ndarray:
    """Read a depth-estimate file like :class:`LoadDepthEstimate` does.

    Args:
        path: 16-bit PNG (value / ``depth_scale`` = metres) or float ``.npy``
            (metres); with ``encoding='normalised_disparity'`` an unsigned PNG of a
            disparity in ``[0, 1]`` (:func:`inverse_of_stored_disparity`).
        depth_scale: Stored value per metre of integer files.
        backend_args: mmengine file backend arguments.
        encoding: ``'depth'`` or ``'normalised_disparity'``.

    Returns:
        ``(H, W)`` float32 metres, ``0`` where invalid (non-finite or negative);
        ``1 / n`` for ``'normalised_disparity'``.
    """
    raw = _read_map(path, 'depth estimate', backend_args)
    if encoding == 'normalised_disparity':
        return inverse_of_stored_disparity(raw, path)
    if not (np.issubdtype(raw.dtype, np.integer)
            or np.issubdtype(raw.dtype, np.floating)):
        raise DataFileError(f'depth estimate {path} has unsupported dtype {raw.dtype}',
                            path)
    scale = 1.0 if np.issubdtype(raw.dtype, np.floating) else depth_scale
    depth = raw.astype(np.float32) / np.float32(scale)
    depth[~np.isfinite(depth) | (depth < 0)] = 0
    return depth


class MatchResult(NamedTuple):
    """Outcome of one matching step.

    Attributes:
        target_index: The target sample ``i``.
        source_index: The chosen source sample ``j`` (eq. 23).
        candidates: The source candidates ``C``.
        distances: ``G(i, c)`` of each candidate.
    """

    target_index: int
    source_index: int
    candidates: List[int]
    distances: List[float]


def _worker_id() -> int:
    try:
        from torch.utils.data import get_worker_info
    except ImportError:  # pragma: no cover - torch is a dependency
        return 0
    info = get_worker_info()
    return 0 if info is None else int(info.id)


@DATASETS.register_module()
class MatchingGeometrySourceDataset:
    """Source samples chosen by Matching Geometry Sampling for each target sample.

    Indexed by the *target* index: ``dataset[i]`` draws ``num_candidates`` random
    source samples, computes :func:`geometric_distance` between the depth estimate
    of target sample ``i`` and each candidate's, and returns the source sample
    ``j = argmin`` run through the source dataset's pipeline (eq. 23). Its length is
    the target dataset's, so it can stand in a data loader with the same sampler as
    the target loader (equal seeds give aligned indices), or, with
    ``return_pair=True``, return ``dict(target=<target sample>, source=<source
    sample>)`` to keep both in one loader. A packed source sample gets
    ``matched_target_index`` and ``geometric_distance`` in its metainfo.

    Depth estimates are the SDE pseudo-labels of each domain, files in the
    :class:`LoadDepthEstimate` convention. The target depth of sample ``i`` is read
    from its data info's ``depth_estimate_path`` when the target dataset sets one,
    else from ``<target_estimate_dir>/<sample_name><target_estimate_suffix>`` (see
    :meth:`target_depth_path`); the same holds for source samples. Maps are
    resized to ``match_size`` (source and target alike, so a 1914×1052 GTA map and
    a 2048×1024 Cityscapes map are compared at 1024×512) and cached as normalised
    log-disparity in a per-process LRU cache of ``cache_size`` maps (about
    ``W × (H - 180·H/512) × 4`` bytes each: 1.4 MB at 1024×512, 85 kB at 256×128;
    a smaller ``match_size`` trades exactness for speed and memory).

    Candidates come from ``numpy.random.default_rng([seed, i, worker, n])`` with
    ``n`` counting the fetches of ``i`` in this process (and ``worker`` the data
    loader worker id), so runs are reproducible and repeated fetches of one target
    sample draw new candidates.

    Args:
        source: Source dataset (or config), e.g. :class:`GTA5DepthSemDataset`.
        target: Target dataset (or config), e.g. :class:`CityscapesDepthSemDataset`;
            only its data list is used unless ``return_pair``.
        target_estimate_dir: Folder of the target depth estimates (absolute, or
            relative to the working directory); optional when the target samples
            carry ``depth_estimate_path``.
        source_estimate_dir: The same for the source.
        target_estimate_suffix, source_estimate_suffix: Estimate file suffixes.
        depth_scale: Stored value per metre of integer (PNG) estimates.
        estimate_encoding: ``'depth'`` (metres) or ``'normalised_disparity'``
            (SDE-Seg's released files, see :class:`LoadDepthEstimate`; with
            ``normalise='none'`` eq. 22 then compares ``log(1 + n)`` of the stored
            disparities, as the release does).
        num_candidates: ``|C|``, the number of random source candidates (paper: 5).
        candidates_with_replacement: Draw the candidates independently (a source
            sample may come twice, as SDE-Seg's released loader draws them) instead
            of ``num_candidates`` distinct ones.
        match_on: ``'full_map'`` (the estimate files at ``match_size``, before the
            pipelines) or ``'training_crop'`` (the ``est_depth_map`` of the
            processed target sample and of each processed candidate, i.e. the
            training crops; both pipelines must load the estimates with
            :class:`LoadDepthEstimate`, and :meth:`match_to_sample` is what
            :class:`SemiSupervisedDataset` calls). ``match_size`` and the estimate
            folders are then unused; the row exclusions scale with the crop height.
        match_size: ``(width, height)`` the maps are compared at (paper: 1024×512).
        exclude_top, exclude_bottom: Rows dropped at 512 rows (paper: 80, 100);
            scaled with ``match_size``'s height.
        normalise: ``'image'``: divide each map by its own median (default);
            ``'domain'``: divide each domain's maps by one median (the median of the
            per-map medians of up to ``domain_scale_samples`` seeded random maps of
            the domain), which keeps per-image scale differences (e.g. a camera
            right in front of a wall); ``'none'``: compare raw estimates.
        domain_scale_samples: Maps per domain for ``normalise='domain'``.
        cache_size: Number of log-disparity maps kept (0 disables the cache).
        seed: Seed of the candidate draws.
        return_pair: Return ``dict(target=<target sample>, source=<source sample>)``.
        lazy_init: Defer the wrapped datasets' ``full_init``.
    """

    def __init__(self,
                 source: Union[dict, object],
                 target: Union[dict, object],
                 target_estimate_dir: Optional[str] = None,
                 source_estimate_dir: Optional[str] = None,
                 target_estimate_suffix: str = '.png',
                 source_estimate_suffix: str = '.png',
                 depth_scale: float = 256.0,
                 estimate_encoding: str = 'depth',
                 num_candidates: int = 5,
                 candidates_with_replacement: bool = False,
                 match_on: str = 'full_map',
                 match_size: Tuple[int, int] = MATCH_SIZE,
                 exclude_top: int = EXCLUDE_TOP,
                 exclude_bottom: int = EXCLUDE_BOTTOM,
                 normalise: str = 'image',
                 domain_scale_samples: int = 64,
                 cache_size: int = 128,
                 seed: int = 0,
                 return_pair: bool = False,
                 lazy_init: bool = False) -> None:
        if num_candidates < 1:
            raise ValueError(f'num_candidates must be >= 1, got {num_candidates}')
        if normalise not in ('image', 'domain', 'none'):
            raise ValueError(f"normalise must be 'image', 'domain' or 'none', got "
                             f'{normalise!r}')
        if match_on not in MATCH_ON:
            raise ValueError(f'match_on must be one of {MATCH_ON}, got {match_on!r}')
        if estimate_encoding not in ('depth', 'normalised_disparity'):
            raise ValueError("estimate_encoding must be 'depth' or "
                             f"'normalised_disparity', got {estimate_encoding!r}")
        self.estimate_encoding = estimate_encoding
        self.source = DATASETS.build(source) if isinstance(source, dict) else source
        self.target = DATASETS.build(target) if isinstance(target, dict) else target
        self.estimate_dirs = dict(target=target_estimate_dir, source=source_estimate_dir)
        self.estimate_suffixes = dict(
            target=target_estimate_suffix, source=source_estimate_suffix)
        self.depth_scale = depth_scale
        self.num_candidates = int(num_candidates)
        self.candidates_with_replacement = bool(candidates_with_replacement)
        self.match_on = match_on
        self.match_size = (int(match_size[0]), int(match_size[1]))
        self.exclude_top = exclude_top
        self.exclude_bottom = exclude_bottom
        excluded_rows(self.match_size[1], exclude_top, exclude_bottom)  # validate
        self.normalise = normalise
        self.domain_scale_samples = int(domain_scale_samples)
        self.cache_size = int(cache_size)
        self.seed = int(seed)
        self.return_pair = return_pair
        self._cache: 'collections.OrderedDict[Tuple[str, int], np.ndarray]' = \
            collections.OrderedDict()
        self._domain_scales: Dict[str, float] = {}
        self._fetch_counts: Dict[int, int] = collections.Counter()
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------ dataset protocol
    @property
    def metainfo(self) -> dict:
        """The source dataset's metainfo (classes, palette)."""
        return self.source.metainfo

    def full_init(self) -> None:
        """Initialise both wrapped datasets."""
        if self._fully_initialized:
            return
        self.source.full_init()
        self.target.full_init()
        if len(self.source) == 0 or len(self.target) == 0:
            raise ValueError(f'MatchingGeometrySourceDataset needs samples in both '
                             f'domains; source has {len(self.source)}, target '
                             f'{len(self.target)}')
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self.target)

    def get_data_info(self, idx: int) -> dict:
        """The target sample's data info (the wrapper is indexed by target)."""
        self.full_init()
        return self.target.get_data_info(idx)

    # ------------------------------------------------------------ depth estimates
    def _depth_path(self, domain: str, index: int) -> str:
        dataset = self.target if domain == 'target' else self.source
        info = dataset.get_data_info(index)
        path = info.get('depth_estimate_path')
        if path is not None:
            return path
        folder = self.estimate_dirs[domain]
        if folder is None:
            raise KeyError(
                f'MatchingGeometrySourceDataset: {domain} sample {index} has no '
                f'depth_estimate_path; set {domain}_estimate_dir (or the dataset\'s '
                'depth_estimate_dir)')
        if 'sample_name' not in info:
            raise KeyError(f'{domain} sample {index} has no sample_name to find its '
                           'depth estimate')
        return fileio.join_path(folder,
                                info['sample_name'] + self.estimate_suffixes[domain])

    def target_depth_path(self, target_index: int) -> str:
        """File of the target sample's SDE depth estimate ``D_i``.

        The data info's ``depth_estimate_path`` when set, else
        ``<target_estimate_dir>/<sample_name><target_estimate_suffix>``.
        """
        return self._depth_path('target', target_index)

    def source_depth_path(self, source_index: int) -> str:
        """File of a source sample's SDE depth estimate (as :meth:`target_depth_path`)."""
        return self._depth_path('source', source_index)

    def load_depth(self, domain: str, index: int) -> np.ndarray:
        """``(H, W)`` float32 depth estimate (metres, ``0`` invalid) of a sample.

        Args:
            domain: ``'target'`` or ``'source'``.
            index: Sample index in that domain's dataset.
        """
        return read_depth_estimate(self._depth_path(domain, index), self.depth_scale,
                                   encoding=self.estimate_encoding)

    def _scale(self, domain: str) -> Optional[float]:
        """The depth scale of ``domain``'s maps (``None``: each map's median)."""
        if self.normalise == 'image':
            return None
        if self.normalise == 'none':
            return 1.0
        if domain not in self._domain_scales:
            dataset = self.target if domain == 'target' else self.source
            rng = np.random.default_rng([self.seed, 7919, domain == 'source'])
            count = min(self.domain_scale_samples, len(dataset))
            medians = []
            for index in rng.choice(len(dataset), size=count, replace=False):
                sample = self._resized(self.load_depth(domain, int(index)))
                top, bottom = excluded_rows(sample.shape[0], self.exclude_top,
                                            self.exclude_bottom)
                kept = sample[top:sample.shape[0] - bottom]
                valid = kept[np.isfinite(kept) & (kept > 0)]
                if valid.size:
                    medians.append(float(np.median(valid)))
            if not medians:
                raise ValueError(f'no valid depth in {count} {domain} depth estimates')
            self._domain_scales[domain] = float(np.median(medians))
        return self._domain_scales[domain]

    def _resized(self, depth: np.ndarray) -> np.ndarray:
        if (depth.shape[1], depth.shape[0]) == self.match_size:
            return depth
        return cv2.resize(depth, self.match_size, interpolation=cv2.INTER_NEAREST)

    def log_disparity(self, domain: str, index: int) -> np.ndarray:
        """Cached :func:`matching_log_disparity` of a sample at ``match_size``."""
        key = (domain, int(index))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        depth = self._resized(self.load_depth(domain, index))
        try:
            value = matching_log_disparity(depth, None, self.exclude_top,
                                           self.exclude_bottom, REFERENCE_HEIGHT,
                                           self._scale(domain))
        except ValueError as error:
            path = self._depth_path(domain, index)
            raise DataFileError(f'depth estimate {path}: {error}', path) from error
        if self.cache_size > 0:
            self._cache[key] = value
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return value

    # ------------------------------------------------------------ matching
    def draw_candidates(self, target_index: int) -> List[int]:
        """Random source candidates ``C`` for one fetch of ``target_index``.

        Distinct indices (all of them when the source has fewer than
        ``num_candidates`` samples), or ``num_candidates`` independent draws with
        ``candidates_with_replacement``; advances the fetch count of ``target_index``.
        """
        self.full_init()
        count = self._fetch_counts[target_index]
        self._fetch_counts[target_index] = count + 1
        rng = np.random.default_rng([self.seed, int(target_index), _worker_id(), count])
        if self.candidates_with_replacement:
            return [int(c) for c in rng.integers(0, len(self.source),
                                                 size=self.num_candidates)]
        size = min(self.num_candidates, len(self.source))
        return [int(c) for c in rng.choice(len(self.source), size=size, replace=False)]

    def match(self,
              target_index: int,
              candidates: Optional[Sequence[int]] = None) -> MatchResult:
        """Eq. 23: the candidate with the smallest geometric difference.

        Args:
            target_index: Target sample ``i``.
            candidates: Source indices to choose from; drawn with
                :meth:`draw_candidates` when ``None``.

        Returns:
            MatchResult: The choice (the first candidate wins ties).
        """
        self.full_init()
        if candidates is None:
            candidates = self.draw_candidates(target_index)
        candidates = [int(c) for c in candidates]
        if not candidates:
            raise ValueError('no source candidates to match')
        target = self.log_disparity('target', target_index)
        distances = [
            log_disparity_distance(target, self.log_disparity('source', c))
            for c in candidates
        ]
        best = int(np.argmin(distances))
        return MatchResult(int(target_index), candidates[best], candidates, distances)

    def _packed_log_disparity(self, packed: dict, domain: str, index: int
                              ) -> np.ndarray:
        """:func:`matching_log_disparity` of a processed sample's ``est_depth_map``
        (``match_on='training_crop'``)."""
        sample = packed.get('data_samples') if isinstance(packed, dict) else None
        if sample is None or 'est_depth_map' not in sample:
            raise KeyError(
                f"MatchingGeometrySourceDataset(match_on='training_crop'): the "
                f'{domain} sample {index} has no `est_depth_map`; add '
                f'LoadDepthEstimate to the {domain} pipeline')
        depth = sample.est_depth_map.data.numpy()
        try:
            return matching_log_disparity(depth.reshape(depth.shape[-2:]), None,
                                          self.exclude_top, self.exclude_bottom,
                                          REFERENCE_HEIGHT, self._scale(domain))
        except ValueError as error:
            path = sample.metainfo.get('img_path', f'{domain} sample {index}')
            raise DataFileError(f'depth estimate of {path}: {error}', path) from error

    def match_to_sample(self, target_index: int,
                        target_packed: Optional[dict] = None) -> dict:
        """The source sample matched to target sample ``target_index`` (eq. 23).

        With ``match_on='full_map'`` the whole estimate files decide
        (:meth:`match`) and ``target_packed`` is not read; with
        ``'training_crop'`` the processed source candidate whose ``est_depth_map``
        is nearest to ``target_packed``'s wins.

        Args:
            target_index: Target sample ``i`` (seeds the candidate draws).
            target_packed: ``target[i]`` as its pipeline returned it (packed inputs
                and data sample with ``est_depth_map``); needed for
                ``'training_crop'``.

        Returns:
            The chosen source sample as the source pipeline produced it, with
            ``matched_target_index`` and ``geometric_distance`` in its metainfo
            (the first candidate wins ties).
        """
        self.full_init()
        if self.match_on == 'full_map':
            result = self.match(target_index)
            sample = self.source[result.source_index]
            self._set_match_info(sample, target_index, result.distances[
                result.candidates.index(result.source_index)])
            return sample
        if target_packed is None:
            raise ValueError("match_on='training_crop' matches a processed target "
                             f'sample: pass target[{target_index}] as target_packed')
        target = self._packed_log_disparity(target_packed, 'target', target_index)
        best = None
        for candidate in self.draw_candidates(target_index):
            sample = self.source[candidate]
            distance = log_disparity_distance(
                target, self._packed_log_disparity(sample, 'source', candidate))
            if best is None or distance < best[0]:
                best = (distance, sample)
        distance, sample = best
        self._set_match_info(sample, target_index, distance)
        return sample

    @staticmethod
    def _set_match_info(sample, target_index: int, distance: float) -> None:
        packed = sample.get('data_samples') if isinstance(sample, dict) else None
        if hasattr(packed, 'set_metainfo'):
            packed.set_metainfo(dict(matched_target_index=int(target_index),
                                     geometric_distance=float(distance)))

    def __getitem__(self, idx: int):
        """The matched source sample of target sample ``idx`` (or the pair).

        With ``match_on='training_crop'`` the target sample is ``target[idx]``
        processed here; :class:`SemiSupervisedDataset` passes its own unlabelled
        sample to :meth:`match_to_sample` instead.
        """
        if self.match_on == 'training_crop':
            target = self.target[idx]
            sample = self.match_to_sample(idx, target)
        else:
            sample = self.match_to_sample(idx)
            target = self.target[idx] if self.return_pair else None
        return dict(target=target, source=sample) if self.return_pair else sample

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(source={type(self.source).__name__}, '
                f'target={type(self.target).__name__}, '
                f'num_candidates={self.num_candidates}, match_on={self.match_on!r}, '
                f'match_size={self.match_size}, '
                f'normalise={self.normalise!r}, seed={self.seed})')
