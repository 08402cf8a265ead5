#!/usr/bin/env python3
"""bench_generate.py — seconds per 512 x 512 image at 20 steps with guidance 7: `vkti generate` beside
diffusers' StableDiffusionPipeline, on the same machine and the same weights (a model folder — for the
benchmark the SD 1.5-shaped random model: make_tiny_sd --preset sd15, F16).

Both sides do the whole job for one image — text encoder (prompt and negative prompt), 20 Euler
ancestral steps with classifier-free guidance (the UNet over a batch of 2), the VAE decode, the 8-bit
picture — and both are timed warm: vkti's per-image time is what its report prints for text + sampling
+ decode (the model load and the first run's pipeline compilation excluded; the first run is a
warm-up), diffusers' the wall time of pipe(...) after a warm-up run (fp16, its default attention:
PyTorch's scaled-dot-product kernels; eager, no torch.compile and no CUDA graphs — what users run).

Run on the GPU machine, from the repo root, after building:
    B=build/release
    $B/make_tiny_sd --preset sd15 --seed 1 --out /tmp/sd15 --no-single --tokenizer-from ../shared/clip
    python3 tools/ref/bench_generate.py --diffusers .ref/src --vkti $B/vkti --model /tmp/sd15 --out $OUT/bench_generate.json
Options: --runs N (timed runs each, default 5), --sampler euler_a|ddim|dpmpp_2m, --steps, --cfg, --size,
--precision fp16|fp32 (vkti), --skip-diffusers / --skip-vkti. Prints a table (median seconds per image,
sampler steps per second) and writes the JSON.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402

SAMPLERS = {"ddim": "DDIMScheduler", "euler_a": "EulerAncestralDiscreteScheduler", "dpmpp_2m": "DPMSolverMultistepScheduler"}
LINE = re.compile(r"load ([\d.]+) s, text ([\d.]+) s, sampling ([\d.]+) s \(([\d.]+) steps/s\), decode ([\d.]+) s, "
                  r"total ([\d.]+) s on (.*) \((fp\d+)\), peak (\d+) MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusers', default=None)
    ap.add_argument('--vkti', default='build/release/vkti')
    ap.add_argument('--model', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--sampler', default='euler_a', choices=list(SAMPLERS))
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--cfg', type=float, default=7.0)
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--precision', default='fp16')
    ap.add_argument('--prompt', default='a photograph of an astronaut riding a horse')
    ap.add_argument('--skip-diffusers', action='store_true')
    ap.add_argument('--skip-vkti', action='store_true')
    ap.add_argument('--out', default=os.path.join(os.environ.get('OUT', '.'), 'bench_generate.json'))
    args = ap.parse_args()
    res = {"model": args.model, "sampler": args.sampler, "steps": args.steps, "cfg": args.cfg, "size": args.size}
    outdir = os.path.dirname(os.path.abspath(args.out))
    if not args.skip_vkti:
        runs = []
        for i in range(args.runs + 1):
            cmd = [args.vkti, '--precision', args.precision, 'generate', '--model', args.model, '--prompt', args.prompt,
                   '--sampler', args.sampler, '--steps', str(args.steps), '--cfg', str(args.cfg), '--seed', str(i),
                   '--width', str(args.size), '--height', str(args.size), '--out', os.path.join(outdir, 'bench_vkti.png')]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - t0
            m = LINE.search(p.stdout)
            if p.returncode or not m:
                print(p.stdout, p.stderr)
                sys.exit('vkti failed')
            load, text, sampling, sps, decode, total = (float(m.group(k)) for k in range(1, 7))
            r = {"load": load, "text": text, "sampling": sampling, "steps_per_s": sps, "decode": decode, "total": total,
                 "wall": wall, "per_image": text + sampling + decode, "peak_mib": int(m.group(9))}
            res["vkti_device"] = m.group(7)
            print('vkti run %d%s: %.3f s per image (text %.3f, sampling %.3f = %.2f steps/s, decode %.3f; load %.2f, '
                  'process %.2f s)' % (i, ' (warm-up)' if i == 0 else '', r["per_image"], text, sampling, sps, decode, load,
                                       wall), flush=True)
            if i:
                runs.append(r)
        res["vkti"] = {"runs": runs, "precision": args.precision,
                       "median_per_image_s": statistics.median(r["per_image"] for r in runs),
                       "median_sampling_s": statistics.median(r["sampling"] for r in runs),
                       "median_decode_s": statistics.median(r["decode"] for r in runs)}
    if not args.skip_diffusers:
        reflib.use_diffusers(args.diffusers)
        import torch
        import diffusers
        from diffusers import StableDiffusionPipeline
        pipe = StableDiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float16, safety_checker=None,
                                                       requires_safety_checker=False).to('cuda')
        pipe.scheduler = getattr(diffusers, SAMPLERS[args.sampler]).from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        res["diffusers_device"] = torch.cuda.get_device_name()
        times = []
        for i in range(args.runs + 1):
            g = torch.Generator('cuda').manual_seed(i)
            torch.cuda.synchronize()
            t0 = time.time()
            img = pipe(args.prompt, num_inference_steps=args.steps, guidance_scale=args.cfg, height=args.size,
                       width=args.size, generator=g).images[0]
            torch.cuda.synchronize()
            dt = time.time() - t0
            print('diffusers run %d%s: %.3f s per image' % (i, ' (warm-up)' if i == 0 else '', dt), flush=True)
            if i:
                times.append(dt)
        img.save(os.path.join(outdir, 'bench_diffusers.png'))
        res["diffusers"] = {"runs_s": times, "median_per_image_s": statistics.median(times),
                            "torch": torch.__version__, "dtype": "fp16",
                            "peak_allocated_mib": torch.cuda.max_memory_allocated() / 1048576}
    print('\n| %dx%d, %d steps %s, CFG %g | seconds per image | |' % (args.size, args.size, args.steps, args.sampler, args.cfg))
    print('|---|---|---|')
    if "vkti" in res:
        v = res["vkti"]
        print('| vkti (%s, %s) | %.3f | sampling %.3f s, decode %.3f s |' % (args.precision, res.get("vkti_device", "?"),
                                                                        v["median_per_image_s"], v["median_sampling_s"],
                                                                        v["median_decode_s"]))
    if "diffusers" in res:
        print('| diffusers StableDiffusionPipeline (fp16, %s) | %.3f | |' % (res.get("diffusers_device", "?"),
                                                                          res["diffusers"]["median_per_image_s"]))
    with open(args.out, 'w') as f:
        json.dump(res, f, indent=1)
    print('wrote', args.out)


if __name__ == '__main__':
    main()
