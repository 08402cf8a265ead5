#!/usr/bin/env python3
"""check_tensorboard.py — reads vkti's TensorBoard event files with TensorBoard's own readers (the
legacy EventAccumulator and the plugin accumulator that `tensorboard --logdir` uses) and prints what
they see; with --sample it also checks the values tests/unit/test_metrics.c writes into
VKTI_TB_SAMPLE_DIR, and exits non-zero if anything differs.

    VKTI_TB_SAMPLE_DIR=/tmp/tbs build/release/tests/vkti_unit_metrics
    python3 tools/ref/check_tensorboard.py /tmp/tbs/tensorboard --sample

Any vkti output folder works too:  python3 tools/ref/check_tensorboard.py OUT/tensorboard
"""
import argparse
import glob
import os
import struct
import sys


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('logdir')
    ap.add_argument('--sample', action='store_true', help='check the sample test_metrics writes')
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.logdir, 'events.out.tfevents.*')))
    print('event files: %s' % ', '.join(os.path.basename(f) for f in files))
    if not files:
        print('FAIL: no event file in %s' % args.logdir)
        return 1
    import tensorboard
    from tensorboard.backend.event_processing import event_accumulator as ea_mod
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea_mod
    from tensorboard.util import tensor_util
    print('tensorboard %s' % tensorboard.__version__)
    problems = []

    ea = ea_mod.EventAccumulator(args.logdir, size_guidance={ea_mod.SCALARS: 0, ea_mod.IMAGES: 0})
    ea.Reload()
    tags = ea.Tags()
    print('EventAccumulator: scalars %s, images %s' % (tags.get('scalars'), tags.get('images')))
    scalars = {t: [(s.step, s.value) for s in ea.Scalars(t)] for t in tags.get('scalars', [])}
    images = {t: [(i.step, i.width, i.height, len(i.encoded_image_string)) for i in ea.Images(t)]
              for t in tags.get('images', [])}
    for t, v in scalars.items():
        print('  %-12s %d points, first %s, last %s' % (t, len(v), v[0], v[-1]))
    for t, v in images.items():
        print('  %-12s %s' % (t, v))

    pea = pea_mod.EventAccumulator(args.logdir, size_guidance={pea_mod.TENSORS: 0})
    pea.Reload()
    ptags = pea.Tags().get('tensors', [])
    print('plugin accumulator (what tensorboard --logdir serves): tensors %s' % ptags)
    pscalars = {}
    for t in ptags:
        meta = pea.SummaryMetadata(t)
        if meta.plugin_data.plugin_name == 'scalars':
            pscalars[t] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in pea.Tensors(t)]

    if args.sample:
        want_loss = [(s, f32(1.0 / (1 + s))) for s in range(50)]
        want_lr = [(s, f32(1e-4)) for s in range(50)]
        want_eval = [(s, f32(0.5 - s / 1000.0)) for s in range(0, 50, 10)]
        for name, got in (('EventAccumulator', scalars), ('plugin accumulator', pscalars)):
            for tag, want in (('train/loss', want_loss), ('train/lr', want_lr), ('eval/loss', want_eval)):
                have = got.get(tag)
                if have is None:
                    problems.append('%s: no %s' % (name, tag))
                elif [(s, f32(v)) for s, v in have] != want:
                    problems.append('%s: %s differs: %s ...' % (name, tag, have[:3]))
        if images.get('preview/0') is None or [(s, w, h) for s, w, h, _ in images['preview/0']] != [(25, 64, 32)]:
            problems.append('image preview/0: %s' % images.get('preview/0'))
    for p in problems:
        print('FAIL: ' + p)
    print('%s' % ('OK' if not problems else '%d problem(s)' % len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
