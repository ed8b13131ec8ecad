"""One markdown table from the parts of ``tools/gpu_check.sh``.

    python tools/analysis_tools/gpu_check_report.py --out gpu_check.md \\
        [--junit tests.xml] [--sdpa sdpa_fp32.json sdpa_amp.json] \\
        [--train train.json] [--device-name NAME] [--elapsed-s S] \\
        [--skeleton --configs CONFIG ... --variants fp32 amp ...]

Rows, in order: the CUDA-marked tests (passed / failed / skipped, with the failed
test ids), the SDPA kernel of each attention module (``check_sdpa_kernels.py``:
ok when flash or memory-efficient, not the math fallback), and one row per
method config and variant of ``benchmark_paper_configs.py --timed`` (s/iter,
images/s, ``torch.cuda.max_memory_allocated`` against 80 GB, fraction of the
measured matmul peak). A part whose file is missing is reported as ``not run``.
``--skeleton`` writes the same table with every figure left open (what
``gpu_check.sh --dry-run`` prints).
"""
import argparse
import json
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence

GPU_MEMORY_MIB = 80e9 / (1024.0 * 1024.0)
HEADER = ('| check | what | result | figures | verdict |\n'
          '| --- | --- | --- | --- | --- |')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='markdown file to write')
    parser.add_argument('--junit', help="pytest's --junitxml of the CUDA tests")
    parser.add_argument('--sdpa', nargs='*', default=[],
                        help='check_sdpa_kernels.py --json outputs')
    parser.add_argument('--train', help='benchmark_paper_configs.py --timed --json')
    parser.add_argument('--device-name', default='', help='GPU name for the title')
    parser.add_argument('--elapsed-s', type=float, help='wall time of the check')
    parser.add_argument('--skeleton', action='store_true',
                        help='the table with open figures (dry run)')
    parser.add_argument('--configs', nargs='*', default=[],
                        help='with --skeleton: the method configs')
    parser.add_argument('--variants', nargs='*', default=[],
                        help='with --skeleton: the benchmark variants')
    return parser.parse_args(argv)


def _cell(text: object) -> str:
    return str(text).replace('|', '\\|').replace('\n', ' ')


def test_rows(junit: Optional[str]) -> List[str]:
    """The row of the CUDA-marked tests from a JUnit XML file."""
    if not junit or not osp.isfile(junit):
        return ['| CUDA tests | `pytest -m cuda` | not run | — | — |']
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == 'testsuite' else list(root.iter('testsuite'))
    counts = dict(tests=0, failures=0, errors=0, skipped=0)
    failed = []
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
        for case in suite.iter('testcase'):
            if case.find('failure') is not None or case.find('error') is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
    passed = counts['tests'] - counts['failures'] - counts['errors'] - counts['skipped']
    bad = counts['failures'] + counts['errors']
    figures = f"{passed} passed, {bad} failed, {counts['skipped']} skipped"
    verdict = 'ok' if bad == 0 and passed > 0 else 'FAIL'
    if counts['tests'] == 0:
        verdict = 'FAIL (no CUDA test collected)'
    detail = ('failed: ' + ', '.join(failed[:6])) if failed else figures
    return [f'| CUDA tests | `pytest -m cuda` (AMP, SyncBN, NCCL torchrun) | '
            f'{_cell(detail)} | {figures} | {verdict} |']


def sdpa_rows(paths: Sequence[str]) -> List[str]:
    """One row per module and autocast setting of ``check_sdpa_kernels.py``."""
    rows = []
    for path in paths:
        if not osp.isfile(path):
            rows.append(f'| SDPA kernel | `{_cell(osp.basename(path))}` | not run | — '
                        '| — |')
            continue
        with open(path) as f:
            for r in json.load(f):
                precision = 'autocast fp16' if r['amp'] else 'fp32'
                verdict = 'FAIL (math fallback)' if r['math'] else 'ok'
                rows.append(f"| SDPA kernel | {_cell(r['module'])}, {precision} | "
                            f"forward {r['forward']}, backward {r['backward']} | "
                            f"{_cell(', '.join(r.get('sdpa_ops', [])))} | {verdict} |")
    return rows or ['| SDPA kernel | LG-CAT, SA | not run | — | — |']


def train_rows(path: Optional[str]) -> List[str]:
    """One row per config and variant of ``benchmark_paper_configs.py --timed``."""
    if not path or not osp.isfile(path):
        return ['| train step | method configs at their paper batch | not run | — '
                '| — |']
    with open(path) as f:
        results = json.load(f)
    rows = []
    for r in results:
        name = f"`{r['config']}`, batch {r.get('batch', r.get('paper_batch', '?'))}"
        variants = r.get('variants') or []
        if not variants:
            rows.append(f"| train step | {name} | error | — | "
                        f"FAIL: {_cell(r.get('error', 'failed'))} |")
            continue
        for v in variants:
            what = f"{name}, {v['variant']}"
            if v.get('status') != 'ok':
                rows.append(f"| train step | {what} | error | — | "
                            f"FAIL: {_cell(v.get('error', 'failed'))} |")
                continue
            memory = v.get('cuda_max_allocated_mib')
            share = memory / GPU_MEMORY_MIB if memory is not None else None
            fractions = ', '.join(f'{f:.2f} of {d} matmul peak' for d, f in
                                  (v.get('fraction_of_peak') or {}).items())
            figures = (f"{v['s_per_iter']:.3f} s/iter, {v['images_per_s']:.1f} img/s, "
                       f"{v['achieved_flops_per_s'] / 1e12:.1f} TFLOP/s ({fractions})")
            mem_text = ('max allocated n/a (not CUDA)' if memory is None else
                        f'max allocated {memory:.0f} MiB ({100 * share:.0f}% of 80 GB)')
            verdict = 'ok' if share is None or share <= 1.0 else 'FAIL (over 80 GB)'
            rows.append(f'| train step | {what} | {mem_text} | {figures} | {verdict} |')
    return rows


def skeleton_rows(configs: Sequence[str], variants: Sequence[str]) -> List[str]:
    rows = ['| CUDA tests | `pytest -m cuda` (AMP, SyncBN, NCCL torchrun) | … | '
            'passed / failed / skipped | … |']
    for module in ('LG-CAT C=128 120x160', 'SA b4 C=256 12x40', 'SA b3 C=128 24x80',
                   'SA b2 C=64 48x160'):
        for precision in ('fp32', 'autocast fp16'):
            rows.append(f'| SDPA kernel | {module}, {precision} | forward …, backward '
                        '… | … | … |')
    for config in configs:
        for variant in variants:
            rows.append(f'| train step | `{config}`, paper batch, {variant} | max '
                        'allocated … MiB (…% of 80 GB) | … s/iter, … img/s, '
                        '… TFLOP/s (… of matmul peak) | … |')
    return rows


def build_report(args: argparse.Namespace) -> str:
    title = '# GPU check' + (f' on {args.device_name}' if args.device_name else '')
    if args.skeleton:
        title += ' (dry run: the table the real run fills)'
        rows = skeleton_rows(args.configs, args.variants)
    else:
        rows = test_rows(args.junit) + sdpa_rows(args.sdpa) + train_rows(args.train)
    lines = [title, '']
    if args.elapsed_s is not None:
        lines += [f'Wall time: {args.elapsed_s:.0f} s.', '']
    lines += [HEADER] + rows
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, str]:
    args = parse_args(argv)
    report = build_report(args)
    with open(args.out, 'w') as f:
        f.write(report)
    print(report)
    return dict(out=args.out, report=report)


if __name__ == '__main__':
    main()
