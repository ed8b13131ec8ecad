"""Labelled subsets (`subset_file`), the semi-supervised dataset and its batches."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmdepthsem.datasets import CityscapesDepthSemDataset
from mmdepthsem.datasets.synthetic import generate_dataset
from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig
from mmdepthsem.registry import DATASETS, MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()
H, W = 32, 64
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
LABELLED_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSemAnnotation'),
                     dict(type='PackDepthSemInputs')]
UNLABELLED_PIPELINE = [dict(type='LoadImageFromFile'),
                       dict(type='LoadNeighbourFrames'),
                       dict(type='PackDepthSemInputs')]


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('ssl_cityscapes')
    generate_dataset('cityscapes', str(out), seed=0, config=CityscapesConfig(
        height=H, width=W, train_cities=('aachen', 'bochum'),
        val_cities=('frankfurt', ), train_sequences_per_city=2,
        val_sequences_per_city=1, sequence_offsets=(-1, 0, 1)))
    root = out / 'cityscapes'
    (root / 'splits').mkdir(exist_ok=True)
    return root


def labelled_cfg(root, subset_file, **kwargs):
    return dict(type='CityscapesDepthSemDataset', data_root=str(root), split='train',
                subset_file=subset_file, with_disparity=False, with_camera=False,
                pipeline=LABELLED_PIPELINE, **kwargs)


def unlabelled_cfg(root):
    return dict(type='CityscapesDepthSemDataset', data_root=str(root), split='train',
                with_seg=False, with_disparity=False, frame_ids=(-1, 1),
                pipeline=UNLABELLED_PIPELINE)


def all_names(root):
    full = CityscapesDepthSemDataset(data_root=str(root), split='train', pipeline=[])
    return [full.get_data_info(i)['sample_name'] for i in range(len(full))]


def test_subset_file_keeps_exactly_the_listed_samples_in_dataset_order(root):
    names = all_names(root)
    assert len(names) == 4
    chosen = [names[3], names[0]]  # listed out of order, with noise
    (root / 'splits' / 'two.txt').write_text(
        f'# labelled split\n\n  {chosen[0]}  \n{chosen[1]}\n{chosen[0]}\n')
    for subset in ('splits/two.txt', str(root / 'splits' / 'two.txt')):
        ds = DATASETS.build(labelled_cfg(root, subset))
        kept = [ds.get_data_info(i)['sample_name'] for i in range(len(ds))]
        assert kept == [names[0], names[3]], subset
    # the pipeline still sees the kept files (labels included)
    item = ds[1]
    assert item['data_samples'].metainfo['img_path'].endswith(
        names[3].split('/')[1] + '_leftImg8bit.png')
    assert 'gt_sem_seg' in item['data_samples']


def test_subset_file_with_an_unknown_name_names_the_file_and_line(root):
    names = all_names(root)
    path = root / 'splits' / 'bad.txt'
    path.write_text(f'{names[1]}\n# comment\naachen/aachen_000099_000019\n')
    with pytest.raises(KeyError) as info:
        DATASETS.build(labelled_cfg(root, 'splits/bad.txt'))
    message = str(info.value)
    assert str(path) in message
    assert 'line 3' in message and 'aachen_000099_000019' in message
    with pytest.raises(FileNotFoundError):
        DATASETS.build(labelled_cfg(root, 'splits/missing.txt'))


def semi(root, names):
    (root / 'splits' / 'semi.txt').write_text('\n'.join(names) + '\n')
    return DATASETS.build(dict(type='SemiSupervisedDataset',
                               labelled=labelled_cfg(root, 'splits/semi.txt'),
                               unlabelled=unlabelled_cfg(root)))


def test_semi_supervised_items_pair_a_labelled_and_the_unlabelled_sample(root):
    names = all_names(root)
    ds = semi(root, [names[2]])
    assert len(ds) == len(names) == len(ds.unlabelled)
    assert len(ds.labelled) == 1
    np.random.seed(0)
    for i in range(len(ds)):
        item = ds[i]
        assert set(item) == {'labelled', 'unlabelled'}
        lab, unl = item['labelled']['data_samples'], item['unlabelled']['data_samples']
        # the only labelled sample is the partner; the unlabelled one is sample i
        assert lab.metainfo['img_path'] == ds.labelled.get_data_info(0)['img_path']
        assert unl.metainfo['img_path'] == ds.unlabelled.get_data_info(i)['img_path']
        assert 'gt_sem_seg' in lab and 'gt_sem_seg' not in unl
        assert unl.frames.shape == (2, 3, H, W)
        assert item['labelled']['inputs'].shape == (3, H, W)
    assert ds.get_data_info(1)['img_path'] == ds.unlabelled.get_data_info(1)['img_path']


def test_empty_subset_file_gives_a_clear_error(root):
    # A subset file naming no sample (only comments) must not reach mmengine's
    # serialisation with an empty list (numpy's "need at least one array to
    # concatenate"): a ValueError naming the subset file.
    empty = root / 'splits' / 'empty.txt'
    empty.write_text('# nothing labelled\n')
    with pytest.raises(ValueError, match=r'empty\.txt|subset_file'):
        DATASETS.build(dict(type='SemiSupervisedDataset',
                            labelled=labelled_cfg(root, str(empty)),
                            unlabelled=unlabelled_cfg(root)))


def preprocessor():
    return MODELS.build(dict(type='MultiBranchDataPreProcessor', mean=MEAN, std=STD,
                             bgr_to_rgb=True, size_divisor=32))


def normalised(image):
    """``(3, H, W)`` uint8 BGR -> normalised RGB, by hand."""
    rgb = image.flip(0).float()
    return (rgb - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def test_collated_branches_are_normalised_per_branch(root):
    names = all_names(root)
    ds = semi(root, names[:2])
    np.random.seed(1)
    items = [ds[0], ds[3]]
    batch = pseudo_collate(items)
    assert set(batch) == {'labelled', 'unlabelled'}
    assert len(batch['unlabelled']['inputs']) == 2
    out = preprocessor()(batch, training=True)
    assert set(out['inputs']) == {'labelled', 'unlabelled'}
    for branch in ('labelled', 'unlabelled'):
        x = out['inputs'][branch]
        assert x.shape == (2, 3, H, W) and x.dtype == torch.float32
        for k in range(2):
            raw = items[k][branch]['inputs']
            assert torch.allclose(x[k], normalised(raw), atol=1e-5), (branch, k)
        assert len(out['data_samples'][branch]) == 2
    for k in range(2):
        sample = out['data_samples']['unlabelled'][k]
        frames = items[k]['unlabelled']['data_samples'].frames
        assert sample.frames.shape == (2, 3, H, W)
        assert torch.allclose(sample.frames[0], normalised(frames[0]), atol=1e-5)
        lab = out['data_samples']['labelled'][k]
        assert lab.gt_sem_seg.data.shape == (1, H, W)
        assert lab.metainfo['img_shape'] == (H, W)

    with pytest.raises(KeyError, match='labelled'):
        preprocessor()(dict(labelled=[1, 2]))


def test_plain_batches_pass_through_like_the_parent(root):
    names = all_names(root)
    lab = DATASETS.build(labelled_cfg(root, None))
    assert len(lab) == len(names)
    batch = pseudo_collate([lab[0], lab[1]])
    out = preprocessor()(batch, training=False)
    parent = MODELS.build(dict(type='DepthSemDataPreProcessor', mean=MEAN, std=STD,
                               bgr_to_rgb=True, size_divisor=32))
    ref = parent(pseudo_collate([lab[0], lab[1]]), training=False)
    assert isinstance(out['inputs'], torch.Tensor)
    assert torch.equal(out['inputs'], ref['inputs'])
    assert torch.allclose(out['inputs'][0], normalised(lab[0]['inputs']), atol=1e-5)
    assert [s.metainfo['img_path'] for s in out['data_samples']] == \
        [s.metainfo['img_path'] for s in ref['data_samples']]
