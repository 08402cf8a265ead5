B=${B:-build/gpu}
for p in tiny tiny-sd2; do $B/make_tiny_sd --preset $p --seed 1 --out /tmp/m-$p --ckpt /tmp/m-$p.ckpt > $O/gen-$p.log 2>&1; done
$B/make_tiny_sd --preset sd15 --seed 1 --out /tmp/m-sd15 --single /tmp/m-sd15.safetensors > $O/gen-sd15.log 2>&1
PYTHONPATH=$PWD/.ref/src python3 tools/ref/check_sd_layouts.py --check /tmp/m-tiny /tmp/m-tiny-sd2 /tmp/m-sd15 --tables $O/sd_tables.json > $O/layouts.log 2>&1; echo "layouts rc=$?"; tail -3 $O/layouts.log
for p in tiny tiny-sd2; do python3 tools/ref/sd_reference.py --diffusers .ref/src --model /tmp/m-$p --out $O/ref-$p > $O/ref-$p.log 2>&1; echo "ref $p rc=$?"; tail -2 $O/ref-$p.log; $B/tests/vkti_unit_networks --model /tmp/m-$p --ref $O/ref-$p > $O/net-$p.log 2>&1; echo "networks $p rc=$?"; grep -E "^(ok|FAIL)|passed" $O/net-$p.log; done
python3 tools/ref/sd_reference.py --diffusers .ref/src --model /tmp/m-sd15 --out /tmp/ref-sd15 --batch 1 --height 512 --width 512 > $O/ref-sd15.log 2>&1; echo "ref sd15 rc=$?"; tail -4 $O/ref-sd15.log
$B/tests/vkti_unit_networks --model /tmp/m-sd15 --ref /tmp/ref-sd15 > $O/net-sd15.log 2>&1; echo "networks sd15 rc=$?"; grep -E "^(ok|FAIL)|passed|unet forward" $O/net-sd15.log
