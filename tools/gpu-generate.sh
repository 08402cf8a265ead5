#!/bin/bash
# gpu-generate.sh — issue 7's checks on the GPU machine: diffusers' samplers against vkti (the
# CI fixture at latent side 8, and SD 1.5's 64 x 64 latents), StableDiffusionPipeline beside
# `vkti generate` on the tiny model (the CI fixture of whole loops) and on an SD 1.5-shaped
# random model, and seconds per 512 x 512 image beside diffusers. Logs and fixtures into $O.
# usage (after source .gl/env.sh): B=build/gpu T=build/gpu/tools O=/tmp/o tools/gpu-generate.sh
B=${B:-build/release}; T=${T:-tools}; O=${O:?O not set}
export PYTHONPATH=$PWD/.ref/src VKTI_SOURCE_DIR=$PWD
python3 $T/ref/sampler_reference.py --diffusers .ref/src --out $O/sampler_reference.safetensors > $O/sampler_ref.log 2>&1; echo "sampler fixture rc=$?"
python3 $T/ref/sampler_reference.py --diffusers .ref/src --side 64 --out /tmp/sampler_sd15.safetensors > $O/sampler_ref64.log 2>&1; echo "sampler sd15 fixture rc=$?"
VKTI_SAMPLER_FIXTURE=$O/sampler_reference.safetensors $B/tests/vkti_unit_schedule > $O/schedule8.log 2>&1; echo "unit_schedule side 8 rc=$?"
VKTI_SAMPLER_FIXTURE=/tmp/sampler_sd15.safetensors $B/tests/vkti_unit_schedule > $O/schedule64.log 2>&1; echo "unit_schedule side 64 rc=$?"
VKTI_SAMPLER_FIXTURE=/tmp/sampler_sd15.safetensors $B/tests/vkti_test_ops -o sampler > $O/ops_sampler64.log 2>&1; echo "ops sampler side 64 rc=$?"
$B/make_tiny_sd --preset tiny --seed 1 --tokenizer-from tests/data/tokenizer/tiny --out /tmp/tiny > /dev/null 2>&1
python3 $T/ref/pipeline_reference.py --diffusers .ref/src --vkti $B/vkti --model /tmp/tiny --prompt "a photo of a cat" \
    --negative "blurry" --steps 20 --cfg 7 --seed 1 --precision fp32 --out $O/pipe_tiny \
    --save-reference $O/pipeline_reference_tiny.safetensors > $O/pipe_tiny.log 2>&1; echo "pipeline tiny rc=$?"
$B/make_tiny_sd --preset sd15 --seed 1 --no-single --tokenizer-from .gl/clip --out /tmp/sd15 > /dev/null 2>&1
for prec in fp32 fp16; do
  timeout 300 python3 $T/ref/pipeline_reference.py --diffusers .ref/src --vkti $B/vkti --model /tmp/sd15 --prompt "a photo of a cat" \
      --negative "blurry" --steps 20 --cfg 7 --seed 1 --precision $prec --out $O/pipe_sd15_$prec > $O/pipe_sd15_$prec.log 2>&1
  echo "pipeline sd15 $prec rc=$?"
done
timeout 300 python3 $T/ref/bench_generate.py --diffusers .ref/src --vkti $B/vkti --model /tmp/sd15 --out $O/bench_generate.json > $O/bench_generate.log 2>&1; echo "bench generate rc=$?"
grep -h "starting latents\|error" $O/pipe_*.log | head -30
tail -3 $O/schedule8.log $O/schedule64.log $O/ops_sampler64.log
tail -12 $O/bench_generate.log
