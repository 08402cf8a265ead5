#!/usr/bin/env python3
"""lr_schedule_fixture.py — diffusers' learning-rate schedules (diffusers.optimization.get_scheduler
driving torch's LambdaLR over a dummy parameter, the way textual_inversion.py steps it) as a fixture
for tests/unit/test_lr_schedule.c.

    python3 tools/ref/lr_schedule_fixture.py --diffusers .ref/src > tests/fixtures/lr_schedules.txt

Output: '#' comment lines, then "NAME k lr" for the rate of optimizer update k = 0..109 (lr as %.17g,
exact for a double). Schedules: base rate 1e-4, 100 training steps, warmup 10 unless the name says.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reflib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusers', default=None)
    args = ap.parse_args()
    reflib.use_diffusers(args.diffusers)
    import torch
    from diffusers.optimization import get_scheduler
    print('# torch %s' % torch.__version__)
    runs = [('constant', 'constant', 10), ('constant_with_warmup', 'constant_with_warmup', 10),
            ('linear', 'linear', 10), ('cosine', 'cosine', 10), ('linear_w0', 'linear', 0),
            ('cosine_w0', 'cosine', 0), ('cosine_w150', 'cosine', 150)]
    for name, kind, warmup in runs:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([p], lr=1e-4)
        sched = get_scheduler(kind, optimizer=opt, num_warmup_steps=warmup, num_training_steps=100, num_cycles=1)
        for k in range(110):
            print('%s %d %.17g' % (name, k, opt.param_groups[0]['lr']))
            opt.step()
            sched.step()


if __name__ == '__main__':
    main()
