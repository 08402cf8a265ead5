#!/usr/bin/env python3
"""noise_schedule_fixture.py — the reference noise schedules, straight from diffusers' DDPMScheduler
and compute_snr (torch, CPU, float32), as a fixture for tests/unit/test_noise_schedule.c.

Run on a machine with torch and diffusers' source (the GPU machine has torch; diffusers is imported
from its source tree, never installed):
    python3 tools/ref/noise_schedule_fixture.py --diffusers .ref/src > tests/fixtures/noise_schedules.txt
(--diffusers defaults to $VKTI_DIFFUSERS_SRC, then .ref/src, then ../shared/anchors/py.)

Output: '#' comment lines (torch version, CPU capability, which float32 linspace rounding torch used),
then one line per schedule and timestep:  NAME t betas_bits alphas_cumprod_bits snr_bits minsnr5_bits
(float32 bit patterns in hex; minsnr5 is diffusers' min-SNR-5 weight for that schedule's prediction type).
Schedules: sd (SD 1.x scheduler_config.json, epsilon), sd2v (SD 2.x 768-v, v_prediction; same betas),
ddpm (DDPMScheduler defaults), cos (squaredcos_cap_v2, 1000 steps).
"""
import argparse
import json
import os
import platform
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import derive_noise_schedule_f32 as emu  # noqa: E402
import reflib  # noqa: E402

SD15 = """{"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
 "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
 "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null,
 "clip_sample": false}"""
SD2V = """{"_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
 "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
 "prediction_type": "v_prediction", "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
 "trained_betas": null}"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusers', default=None, help='folder that contains the diffusers package')
    args = ap.parse_args()
    reflib.use_diffusers(args.diffusers)
    import torch
    from diffusers import DDPMScheduler
    try:
        from diffusers.training_utils import compute_snr
    except Exception as e:  # training_utils pulls in much of diffusers; fall back to its formula
        print('# compute_snr import failed (%s); using its formula inline' % e)

        def compute_snr(sched, t):
            a = sched.alphas_cumprod ** 0.5
            s = (1.0 - sched.alphas_cumprod) ** 0.5
            return (a[t].float() / s[t].float()) ** 2

    print('# torch %s, cpu capability %s, %s %s, python %s' % (
        torch.__version__, getattr(torch.backends.cpu, 'get_cpu_capability', lambda: '?')(),
        platform.system(), platform.machine(), platform.python_version()))
    scheds = {
        'sd': DDPMScheduler.from_config(json.loads(SD15)),
        'sd2v': DDPMScheduler.from_config(json.loads(SD2V)),
        'ddpm': DDPMScheduler(),
        'cos': DDPMScheduler(beta_schedule='squaredcos_cap_v2'),
    }
    # which float32 rounding torch's linspace used here
    r = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32).tolist()
    for mode in ('fused', 'separate'):
        e = emu.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, mode == 'fused')
        same = sum(1 for a, b in zip(r, e) if struct.pack('<f', a) == struct.pack('<f', b))
        print('# linspace %s: %d of 1000 equal' % (mode, same))
    for name, s in scheds.items():
        t = torch.arange(0, s.config.num_train_timesteps)
        snr = compute_snr(s, t)
        gamma = 5.0
        w = torch.stack([snr, gamma * torch.ones_like(t)], dim=1).min(dim=1)[0]
        if s.config.prediction_type == 'epsilon':
            w = w / snr
        else:
            w = w / (snr + 1)
        print('# %s: prediction_type %s, %d steps' % (name, s.config.prediction_type, len(t)))
        for i in range(len(t)):
            vals = (s.betas[i].item(), s.alphas_cumprod[i].item(), snr[i].item(), w[i].item())
            print('%s %d %s' % (name, i, ' '.join('0x%08x' % emu.bits(v) for v in vals)))


if __name__ == '__main__':
    main()
