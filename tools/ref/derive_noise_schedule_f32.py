#!/usr/bin/env python3
"""derive_noise_schedule_f32.py — an independent derivation (Python standard library only) of the
float32 DDPM schedule that diffusers' DDPMScheduler computes with torch on the CPU, used to make the
expected values in tests/unit/test_noise_schedule.c until tools/ref/noise_schedule_fixture.py has
produced the real thing on a machine with torch.

How float32 is emulated without numpy: a float32 operation (+ - * / sqrt) on float32 inputs is the
exact result rounded once to float32. Python computes it in double and struct-packs the double into
a float32 (round to nearest even); rounding twice this way is exact for these five operations because
double has at least 2*24+2 significand bits. The fused multiply-add (how torch's AVX2/AVX-512 linspace
kernel is compiled) is computed exactly with fractions.Fraction and rounded once to float32.

usage: derive_noise_schedule_f32.py [--mode fused|separate] [--schedule scaled_linear|linear]
                                    [--start 0.00085] [--end 0.012] [--steps 1000]
prints: FNV-1a 64 over the little-endian float32 bits of alphas_cumprod[0..T), then lines
        "t betas_bits alphas_cumprod_bits sqrt_a_bits sqrt_1ma_bits snr_bits" for chosen t.
"""
import argparse
import math
import struct
from fractions import Fraction


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def from_bits(b):
    return struct.unpack('<f', struct.pack('<I', b))[0]


def f32_exact(fr):
    """Rounds an exact rational to the nearest float32 (ties to even)."""
    f = f32(float(fr))
    b = bits(f)
    cands = [f]
    for nb in (b - 1, b + 1):
        if 0 <= nb < 0x7f800000 or 0x80000000 <= nb < 0xff800000:
            cands.append(from_bits(nb))
    best = None
    for c in cands:
        err = abs(Fraction(c) - fr)
        key = (err, bits(c) & 1)
        if best is None or key < best[0]:
            best = (key, c)
    return best[1]


def linspace(a, b, n, fused):
    start, end = f32(a), f32(b)
    step = f32(f32(end - start) / f32(float(n - 1)))
    out = []
    for i in range(n):
        if i < n // 2:
            if fused:
                v = f32_exact(Fraction(start) + Fraction(step) * i)
            else:
                v = f32(start + f32(step * float(i)))
        else:
            k = n - 1 - i
            if fused:
                v = f32_exact(Fraction(end) - Fraction(step) * k)
            else:
                v = f32(end - f32(step * float(k)))
        out.append(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', default='fused', choices=['fused', 'separate'])
    ap.add_argument('--schedule', default='scaled_linear', choices=['scaled_linear', 'linear'])
    ap.add_argument('--start', type=float, default=0.00085)
    ap.add_argument('--end', type=float, default=0.012)
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--at', default='0,1,2,57,100,250,499,500,501,750,998,999')
    args = ap.parse_args()
    fused = args.mode == 'fused'
    n = args.steps
    if args.schedule == 'scaled_linear':
        r = linspace(math.sqrt(args.start), math.sqrt(args.end), n, fused)
        betas = [f32(x * x) for x in r]
    else:
        betas = linspace(args.start, args.end, n, fused)
    acc = 1.0
    ac = []
    for beta in betas:
        acc *= f32(1.0 - beta)
        ac.append(f32(acc))
    h = 0xcbf29ce484222325
    for x in ac:
        for byte in struct.pack('<f', x):
            h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    print('fnv1a64 %016x' % h)
    for t in [int(x) for x in args.at.split(',')]:
        a = ac[t]
        sa = f32(math.sqrt(a))
        sb = f32(math.sqrt(f32(1.0 - a)))
        snr = f32(f32(sa / sb) ** 2)
        print('%d 0x%08x 0x%08x 0x%08x 0x%08x 0x%08x' % (t, bits(betas[t]), bits(a), bits(sa), bits(sb), bits(snr)))


if __name__ == '__main__':
    main()
