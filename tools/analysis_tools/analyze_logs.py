"""Plot training curves and training speed from mmengine's scalar logs.

    python tools/analysis_tools/analyze_logs.py plot_curve LOG [LOG ...]
        --keys loss depth.loss_silog [...] [--out curves.png] [--legend ...]
        [--title T] [--log-y]
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG [LOG ...]
        [--include-outliers]

``LOG`` is a ``vis_data/scalars.json`` that mmengine's ``LocalVisBackend`` writes
(one JSON object per line), or a work dir / run dir: the newest
``*/vis_data/scalars.json`` below it is used.

Training lines carry ``iter`` (and ``epoch`` in epoch-based runs), ``step``, ``lr``,
``time``, ``data_time`` and the losses (e.g. ``loss``, ``depth.loss_silog``);
validation lines carry the metrics (e.g. ``depth/abs_rel``, ``mIoU``) and ``step``
only. Every key is plotted against the training iteration: ``iter`` where the line
has one, else ``step``. In epoch-based runs (training lines with ``epoch``) a
validation line's ``step`` is its epoch and is placed at the last logged iteration
of that epoch.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

Record = Dict[str, object]


def resolve_log(path: str) -> str:
    """``path`` itself when it is a file, else the newest ``vis_data/scalars.json``
    below the folder ``path``."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'),
                          recursive=True)
        if found:
            return max(found, key=osp.getmtime)
        raise FileNotFoundError(f'no vis_data/scalars.json below {path}')
    raise FileNotFoundError(f'log {path} does not exist')


def load_scalars(path: str) -> List[Record]:
    """The JSON objects of a ``scalars.json``, one per non-empty line.

    Raises:
        ValueError: Naming the file and line of a line that is not a JSON object.
    """
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not JSON ({err})') from None
            if not isinstance(record, dict):
                raise ValueError(f'{path}:{number}: expected a JSON object, got '
                                 f'{type(record).__name__}')
            records.append(record)
    return records


def is_train_record(record: Record) -> bool:
    """Training lines carry ``iter``; validation and test lines do not."""
    return 'iter' in record


def record_iters(records: Sequence[Record]) -> List[Optional[float]]:
    """The training iteration of each record (None when it has neither ``iter`` nor
    ``step``); see the module docstring for validation lines."""
    epoch_based = any(is_train_record(r) and 'epoch' in r for r in records)
    last_iter_of_epoch: Dict[int, float] = {}
    if epoch_based:
        for record in records:
            if is_train_record(record) and 'epoch' in record:
                epoch = int(record['epoch'])
                last_iter_of_epoch[epoch] = max(last_iter_of_epoch.get(epoch, 0),
                                                float(record['iter']))
    iters = []
    for record in records:
        if is_train_record(record):
            iters.append(float(record['iter']))
        elif 'step' in record:
            step = record['step']
            iters.append(last_iter_of_epoch.get(int(step), float(step))
                         if epoch_based else float(step))
        else:
            iters.append(None)
    return iters


def available_keys(records: Sequence[Record]) -> List[str]:
    """The numeric keys of the records, except the x-axis keys."""
    keys = set()
    for record in records:
        keys.update(k for k, v in record.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool))
    return sorted(keys - {'iter', 'step', 'epoch'})


def curve(records: Sequence[Record], key: str,
          log_name: str = 'the log') -> Tuple[List[float], List[float]]:
    """``(iterations, values)`` of ``key`` over the records that contain it.

    Raises:
        KeyError: When no record has a numeric ``key``; the message names the key,
            the log and the keys it does have.
    """
    xs, ys = [], []
    for x, record in zip(record_iters(records), records):
        value = record.get(key)
        if x is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        xs.append(x)
        ys.append(float(value))
    if not xs:
        raise KeyError(f'key {key!r} is in no line of {log_name}; its keys are: '
                       f'{", ".join(available_keys(records)) or "(none)"}')
    return xs, ys


def default_legend(log_names: Sequence[str], keys: Sequence[str]) -> List[str]:
    if len(log_names) == 1:
        return list(keys)
    return [f'{name}: {key}' for name in log_names for key in keys]


def run_name(path: str) -> str:
    """A short label for a log: ``<work dir>/<timestamp>`` of
    ``<work dir>/<timestamp>/vis_data/scalars.json``."""
    parts = osp.normpath(osp.abspath(path)).split(os.sep)
    if len(parts) >= 4 and parts[-2] == 'vis_data':
        return '/'.join(parts[-4:-2])
    return osp.basename(path)


def plot_curve(logs: Sequence[str], keys: Sequence[str], out: str,
               legend: Optional[Sequence[str]] = None, title: Optional[str] = None,
               log_y: bool = False) -> str:
    """Plot ``keys`` of each log against the iteration into the image ``out``.

    Returns:
        The path written.

    Raises:
        KeyError: A key is in no line of one of the logs.
        ValueError: ``legend`` does not have one entry per log and key.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    paths = [resolve_log(log) for log in logs]
    names = [run_name(p) for p in paths]
    if legend is None:
        legend = default_legend(names, keys)
    elif len(legend) != len(paths) * len(keys):
        raise ValueError(f'--legend needs {len(paths) * len(keys)} entries (one per '
                         f'log and key: {len(paths)} x {len(keys)}), got '
                         f'{len(legend)}')
    curves = []
    for path in paths:
        records = load_scalars(path)
        curves.extend(curve(records, key, path) for key in keys)
    fig, ax = plt.subplots(figsize=(8, 5))
    try:
        for (xs, ys), label in zip(curves, legend):
            marker = 'o' if len(xs) <= 20 else None
            ax.plot(xs, ys, label=label, marker=marker, markersize=3)
        ax.set_xlabel('iter')
        ax.set_ylabel(keys[0] if len(keys) == 1 else 'value')
        if log_y:
            ax.set_yscale('log')
        if title:
            ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        folder = osp.dirname(osp.abspath(out))
        os.makedirs(folder, exist_ok=True)
        fig.savefig(out, dpi=100)
    finally:
        plt.close(fig)
    return out


def train_time_stats(records: Sequence[Record],
                     include_outliers: bool = False) -> Optional[Dict[str, float]]:
    """Seconds per iteration from the training lines' ``time`` (each a mean over
    the logging interval).

    Args:
        records: The lines of one log.
        include_outliers: Keep the first logged interval, which includes start-up
            and is left out by default.

    Returns:
        ``mean``, ``std`` (population), ``fastest`` / ``slowest`` interval means with
        their ``*_iter``, ``data_time`` mean (when logged), ``last_iter`` and
        ``total_hours`` (mean time x last iteration); None without any timed line.
    """
    timed = [r for r in records if is_train_record(r) and 'time' in r]
    if len(timed) > 1 and not include_outliers:
        timed = timed[1:]
    if not timed:
        return None
    times = [float(r['time']) for r in timed]
    fastest = min(range(len(times)), key=times.__getitem__)
    slowest = max(range(len(times)), key=times.__getitem__)
    last_iter = max(float(r['iter']) for r in records if is_train_record(r))
    data_times = [float(r['data_time']) for r in timed if 'data_time' in r]
    mean = statistics.fmean(times)
    return dict(mean=mean, std=statistics.pstdev(times), fastest=times[fastest],
                fastest_iter=float(timed[fastest]['iter']), slowest=times[slowest],
                slowest_iter=float(timed[slowest]['iter']),
                data_time=statistics.fmean(data_times) if data_times else math.nan,
                last_iter=last_iter, total_hours=mean * last_iter / 3600)


def cal_train_time(logs: Sequence[str], include_outliers: bool = False) -> None:
    for log in logs:
        path = resolve_log(log)
        stats = train_time_stats(load_scalars(path), include_outliers)
        print(f'{"-" * 20} Analyse train time of {path} {"-" * 20}')
        if stats is None:
            print('no training line with "time" in this log')
            continue
        print(f'slowest logged interval: {stats["slowest"]:.4f} s/iter '
              f'(at iter {stats["slowest_iter"]:.0f})')
        print(f'fastest logged interval: {stats["fastest"]:.4f} s/iter '
              f'(at iter {stats["fastest_iter"]:.0f})')
        print(f'time std over intervals: {stats["std"]:.4f} s')
        print(f'average iter time: {stats["mean"]:.4f} s/iter')
        if not math.isnan(stats['data_time']):
            print(f'average data time: {stats["data_time"]:.4f} s/iter')
        print(f'estimated time of {stats["last_iter"]:.0f} iters: '
              f'{stats["total_hours"]:.2f} h')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    plot = commands.add_parser('plot_curve', help='plot keys against the iteration')
    plot.add_argument('logs', nargs='+', help='scalars.json files or work dirs')
    plot.add_argument('--keys', nargs='+', default=['loss'],
                      help='keys to plot, e.g. loss depth.loss_silog depth/abs_rel')
    plot.add_argument('--out', default='curves.png', help='output image')
    plot.add_argument('--legend', nargs='+',
                      help='one label per log and key (log-major order)')
    plot.add_argument('--title')
    plot.add_argument('--log-y', action='store_true', help='logarithmic y axis')
    timing = commands.add_parser('cal_train_time', help='time per iteration')
    timing.add_argument('logs', nargs='+', help='scalars.json files or work dirs')
    timing.add_argument('--include-outliers', action='store_true',
                        help='keep the first logged interval (start-up)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.command == 'plot_curve':
        try:
            out = plot_curve(args.logs, args.keys, args.out, args.legend, args.title,
                             args.log_y)
        except (KeyError, ValueError, FileNotFoundError) as err:
            raise SystemExit(f'plot_curve: {err.args[0] if err.args else err}')
        print(f'saved {out}')
    else:
        cal_train_time(args.logs, args.include_outliers)


if __name__ == '__main__':
    main()
