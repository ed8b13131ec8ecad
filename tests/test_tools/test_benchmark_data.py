"""The data-pipeline benchmark: our loader and mmseg's nearest equivalent on the
same synthetic NYU files, with 0, 1 and 2 workers."""
import json

import pytest
import torch

from ..conftest import DEMO_CONFIG, load_tool, small_demo_options


def load_benchmark():
    return load_tool('tools/analysis_tools/benchmark_data.py')


def test_mmseg_equivalent_reads_the_same_files_at_the_same_size(synthetic_nyu):
    bench = load_benchmark()
    bench.register_all_modules()
    cfg = bench.load_tool_config(str(DEMO_CONFIG), {
        'train_dataloader.dataset.data_root': str(synthetic_nyu),
        'train_dataloader.dataset.image_size': [96, 64],
        'train_dataloader.dataset.pipeline.4.crop_size': [48, 64]})
    ours = bench.our_loader(cfg, 0, batch_size=2)
    dataset, notes = bench.mmseg_dataset(ours.dataset, cfg.train_dataloader.dataset)
    assert len(dataset) == len(ours.dataset) == 8
    assert [d['img_path'] for d in dataset.data_list] == [
        ours.dataset.get_data_info(i)['img_path'] for i in range(8)]
    kinds = [type(t).__name__ for t in dataset.transforms]
    assert kinds == ['LoadImageFromFile', 'LoadDepthAnnotation', 'LoadAnnotations',
                     'RandomResize', 'RandomCrop', 'RandomFlip',
                     'PhotoMetricDistortion', 'PackSegInputs']
    assert any('PhotoMetricDistortion' in n for n in notes)
    packed = dataset[0]
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 48, 64)
    assert sample.gt_sem_seg.data.shape == sample.gt_depth_map.data.shape == (1, 48, 64)
    # millimetre PNGs scaled to metres on loading, as ours does
    depth = sample.gt_depth_map.data
    assert 0 < depth.max() < 10
    ours_sample = next(iter(ours))['data_samples'][0]
    assert ours_sample.gt_depth_map.data.shape[-2:] == (48, 64)
    assert torch.is_tensor(ours_sample.gt_sem_seg.data)


def test_reports_workers_and_the_mmseg_rows(synthetic_nyu, tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / 'data.json'
    result = bench.main([str(DEMO_CONFIG), '--workers', '0', '1', '2', '--batches',
                         '2', '--rounds', '1', '--json', str(out), '--cfg-options',
                         *small_demo_options(synthetic_nyu)])
    printed = capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written['batch_size'] == result['batch_size'] == 2
    rows = {(r['pipeline'], r['workers']): r for r in result['rows']}
    assert set(rows) == {(p, w) for p in ('ours', 'mmseg') for w in (0, 1, 2)}
    for row in rows.values():
        assert row['samples_per_s'] > 0 and row['latency_s'] > 0
        assert row['rounds'] == [row['samples_per_s']]
    for w in (0, 1, 2):
        assert result['ratio'][w] == pytest.approx(
            rows['ours', w]['samples_per_s'] / rows['mmseg', w]['samples_per_s'])
        assert written['ratio'][str(w)] == pytest.approx(result['ratio'][w])
    lines = [line.split() for line in printed.splitlines()]
    assert sum(1 for p in lines if p[:1] == ['mmseg'] and p[1] in '012') == 3
    assert sum(1 for p in lines if p[:1] == ['ours'] and len(p) == 5) == 3
