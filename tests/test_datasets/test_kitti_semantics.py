"""KITTISemanticsDataset: the KITTI-2015 semantic layout, label ids → train ids."""
import cv2
import numpy as np
import pytest

from mmdepthsem.datasets import KITTISemanticsDataset
from mmdepthsem.datasets.cityscapes import CITYSCAPES_LABELS
from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.utils import register_all_modules

register_all_modules()
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSemAnnotation')]


def _write(root, stem, label):
    image = np.full(label.shape + (3, ), 100, np.uint8)
    for folder, array in (('image_2', image), ('semantic', label)):
        path = root / 'training' / folder / f'{stem}.png'
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), array)


def test_labels_are_converted_to_train_ids(tmp_path):
    # road (7) -> 0, car (26) -> 13, parking (9, no train id) -> 255, bicycle -> 18
    label = np.array([[7, 26], [9, 33]], np.uint8)
    _write(tmp_path, '000001_10', label)
    _write(tmp_path, '000000_10', np.full((2, 2), 23, np.uint8))  # sky -> 10
    # the benchmark's second frames (_11) have no labels and are not listed
    cv2.imwrite(str(tmp_path / 'training/image_2/000000_11.png'),
                np.zeros((2, 2, 3), np.uint8))
    dataset = KITTISemanticsDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    assert len(dataset) == 2 and dataset.metainfo['classes'][13] == 'car'
    assert dataset[0]['gt_seg_map'].tolist() == [[10, 10], [10, 10]]
    assert dataset[1]['gt_seg_map'].tolist() == [[0, 13], [255, 18]]
    assert dataset.get_data_info(1)['sample_name'] == '000001_10'


def test_every_label_id_has_a_train_id_and_the_table_is_official():
    table = {i: t for i, _, t in CITYSCAPES_LABELS}
    assert sorted(table) == list(range(34))
    trained = sorted((t, i) for i, t in table.items() if t != 255)
    assert [t for t, _ in trained] == list(range(19))
    assert [i for _, i in trained] == [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24,
                                       25, 26, 27, 28, 31, 32, 33]


def test_an_id_outside_the_cityscapes_labels_names_the_file(tmp_path):
    _write(tmp_path, '000000_10', np.array([[7, 200]], np.uint8))
    dataset = KITTISemanticsDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(DataFileError, match=r'000000_10\.png'):
        dataset[0]


def test_missing_label_or_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder'):
        KITTISemanticsDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    _write(tmp_path, '000000_10', np.zeros((2, 2), np.uint8))
    (tmp_path / 'training/semantic/000000_10.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'semantic/000000_10\.png'):
        KITTISemanticsDataset(data_root=str(tmp_path), pipeline=PIPELINE)
