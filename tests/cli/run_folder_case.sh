#!/bin/sh
# run_folder_case.sh GANTRY WORKDIR CASE: one scenario of how `gantry mog train`, `mog eval`, `mog grid`,
# `mog compare` and `mog directions` treat a run folder that already holds a run. Each case works in
# its own WORKDIR/CASE; a refused command must exit non-zero, print a message matching what is
# expected, and leave every file of the run folder exactly as it was (expect_failure_unchanged.sh).
set -u
gantry="$1"
work="$2/$3"
case_name="$3"
rm -rf "$work"
mkdir -p "$work"
run="$work/run"
here=$(dirname "$0")

fail() {
  echo "FAIL ($case_name): $*"
  exit 1
}
# A tiny run: 20 steps, checkpoints at 10 and 20 ("$gantry" $tiny_args works where a function cannot).
tiny_args="mog train --modes 4 --steps 20 --batch 16 --eval-samples 200 --checkpoint-every 10 --quiet"
tiny() { "$gantry" $tiny_args "$@"; }
# A background process the case started is stopped however the case ends.
background=""
trap '[ -z "$background" ] || kill "$background" 2>/dev/null' EXIT
# passes REGEX CMD...: CMD must succeed and print a line matching REGEX.
passes() {
  regex="$1"
  shift
  out=$("$@" 2>&1) || { printf '%s\n' "$out"; fail "exited non-zero: $*"; }
  printf '%s\n' "$out"
  printf '%s\n' "$out" | grep -Eq -- "$regex" || fail "no output matching: $regex"
}
# refused FOLDER REGEX CMD...: CMD must fail with a message matching REGEX and change nothing in FOLDER
# (expect_failure_unchanged.sh compares every path and its contents before and after).
refused() {
  out=$(sh "$here/expect_failure_unchanged.sh" "$@" 2>&1)
  status=$?
  printf '%s\n' "$out"
  [ "$status" -eq 0 ] || fail "not refused as expected: $*"
}
json_value() { grep -E "^ *\"$2\": " "$1" | head -1 | sed -E 's/^ *"[^"]*": //; s/,$//'; }
expect_value() {
  [ "$(json_value "$1" "$2")" = "$3" ] || fail "$1: $2 is '$(json_value "$1" "$2")', expected '$3'"
}
# A pid that no process has: a child that already exited.
dead_pid() {
  sh -c 'exit 0' &
  pid=$!
  wait "$pid"
  echo "$pid"
}

# Waits until the process PID holds the lock of $run, and past its start-up writes.
wait_for_lock() {
  for _ in $(seq 1 300); do
    [ "$(cat "$run/.gantry.lock" 2>/dev/null)" = "$1" ] && break
    sleep 0.1
  done
  [ "$(cat "$run/.gantry.lock" 2>/dev/null)" = "$1" ] || fail "the training never took the lock"
  sleep 0.5  # config.json and log.jsonl are written right after the lock is taken
}

case "$case_name" in
  existing_run_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    refused "$run" "--out: '$run' already holds a run \\(config.json, checkpoint.safetensors, metrics.json, log.jsonl, samples.png, eval_samples.npz\\).*--resume.*--restart" "$gantry" $tiny_args --out "$run"
    refused "$run" "already holds a run" "$gantry" $tiny_args --modes 9 --lr 1e-3 --out "$run"
    # Part of a run is still a run: a config.json alone, or a checkpoint alone.
    rm "$run/checkpoint.safetensors" "$run/metrics.json" "$run/log.jsonl" "$run/samples.png" "$run/eval_samples.npz"
    refused "$run" "already holds a run \\(config.json\\)" "$gantry" $tiny_args --out "$run"
    tiny --out "$work/other" >/dev/null || fail "second run failed"
    rm "$work/other/config.json" "$work/other/metrics.json" "$work/other/log.jsonl" "$work/other/samples.png" \
      "$work/other/eval_samples.npz"
    refused "$work/other" "already holds a run \\(checkpoint.safetensors\\)" "$gantry" $tiny_args --out "$work/other"
    ;;
  unrelated_files_accepted)
    mkdir -p "$run"
    echo "my notes" >"$run/notes.txt"
    passes "modes recovered" tiny --out "$run"
    [ "$(cat "$run/notes.txt")" = "my notes" ] || fail "notes.txt changed"
    ;;
  restart_discards)
    tiny --out "$run" >/dev/null || fail "first run failed"
    echo "keep me" >"$run/eval.json"
    refused "$run" "mutually exclusive" "$gantry" $tiny_args --out "$run" --resume --restart
    passes "--restart: discarded the earlier run in '$run' \\(config.json, checkpoint.safetensors, metrics.json, log.jsonl, samples.png, eval_samples.npz\\)" \
      tiny --steps 10 --out "$run" --restart
    expect_value "$run/metrics.json" step 10
    expect_value "$run/config.json" steps 10
    [ "$(cat "$run/eval.json")" = "keep me" ] || fail "--restart removed a file that is not the run's"
    ;;
  resume_fewer_steps_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    refused "$run" "--steps 10 is below step 20 of the checkpoint '$run/checkpoint.safetensors'.*--steps 20 or more" \
      "$gantry" mog train --resume --steps 10 --out "$run"
    passes "step 20 of 20" "$gantry" mog eval --run "$run"
    ;;
  resume_at_checkpoint_step_reevaluates)
    tiny --out "$run" >/dev/null || fail "first run failed"
    checkpoint_before=$(sha256sum <"$run/checkpoint.safetensors")
    seconds_before=$(json_value "$run/metrics.json" train_seconds)
    passes "nothing to train: the checkpoint is at step 20 of 20; re-evaluating it" \
      "$gantry" mog train --resume --out "$run" --eval-samples 300 --quiet
    [ "$(sha256sum <"$run/checkpoint.safetensors")" = "$checkpoint_before" ] || fail "the checkpoint was rewritten"
    expect_value "$run/metrics.json" finished true
    expect_value "$run/metrics.json" num_samples 300
    expect_value "$run/metrics.json" train_seconds "$seconds_before"
    ;;
  resume_uses_recorded_config)
    "$gantry" mog train --modes 4 --steps 20 --batch 16 --lr 3e-4 --topk --decay-every 5 --eval-samples 200 \
      --checkpoint-every 10 --quiet --out "$run" >/dev/null || fail "first run failed"
    passes "step 30/30" "$gantry" mog train --resume --steps 30 --out "$run"
    expect_value "$run/config.json" modes 4
    expect_value "$run/config.json" lr 0.0003
    expect_value "$run/config.json" batch 16
    expect_value "$run/config.json" selection '"top-k"'
    expect_value "$run/config.json" decay_every 5
    expect_value "$run/config.json" steps 30
    expect_value "$run/metrics.json" step 30
    ;;
  resume_identity_option_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    refused "$run" "--resume: --lr is 0.001 but the run in '$run' was trained with lr = 0.0001" \
      "$gantry" mog train --resume --steps 30 --lr 1e-3 --out "$run"
    refused "$run" "--resume: --modes is 9 but the run in '$run' was trained with modes = 4" \
      "$gantry" mog train --resume --steps 30 --modes 9 --out "$run"
    refused "$run" "--resume: --topk/--bottomk is \"top-k\" but .* selection = \"full\"" \
      "$gantry" mog train --resume --steps 30 --topk --out "$run"
    # Repeating a recorded value and changing the cadence are fine.
    passes "high-quality" "$gantry" mog train --resume --steps 30 --modes 4 --batch 16 --log-every 5 --threads 2 --quiet --out "$run"
    expect_value "$run/config.json" log_every 5
    ;;
  resume_without_config_json)
    tiny --lr 3e-4 --out "$run" >/dev/null || fail "first run failed"
    rm "$run/config.json"
    passes "no config.json beside '$run/checkpoint.safetensors'; using the configuration embedded in the checkpoint" \
      "$gantry" mog train --resume --steps 30 --quiet --out "$run"
    expect_value "$run/config.json" modes 4
    expect_value "$run/config.json" lr 0.0003
    expect_value "$run/config.json" steps 30
    ;;
  eval_without_config_json)
    tiny --modes 9 --out "$run" >/dev/null || fail "first run failed"
    rm "$run/config.json"
    passes "using the configuration embedded in the checkpoint" "$gantry" mog eval --run "$run"
    passes "\\(baseline, 9 modes, step 20 of 20\\)" "$gantry" mog eval --run "$run"
    ;;
  edited_config_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    sed -i 's/"modes": 4,/"modes": 9,/' "$run/config.json"
    refused "$run" "--run: '$run/config.json' says modes = 9 but the checkpoint '$run/checkpoint.safetensors' was trained with modes = 4" \
      "$gantry" mog eval --run "$run"
    refused "$run" "--resume: '$run/config.json' says modes = 9 but the checkpoint" \
      "$gantry" mog train --resume --steps 30 --out "$run"
    ;;
  stale_temporary_removed)
    tiny --out "$run" >/dev/null || fail "first run failed"
    stale="checkpoint.safetensors.tmp.$(dead_pid)"
    cp "$run/checkpoint.safetensors" "$run/$stale"
    live="eval.json.tmp.$$"  # this script is alive: a live writer's file is kept
    echo "{" >"$run/$live"
    passes "removed 1 stale temporary file\\(s\\) of interrupted writes in '$run': $stale" \
      "$gantry" mog train --resume --steps 30 --quiet --out "$run"
    [ ! -e "$run/$stale" ] || fail "$stale is still there"
    [ -e "$run/$live" ] || fail "the live writer's $live was removed"
    ;;
  corrupt_checkpoint_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    # A float NaN over the first 4 bytes of the data section (the first tensor in file order).
    header=$(od -An -t u8 -N8 "$run/checkpoint.safetensors" | tr -d ' ')
    printf '\000\000\300\177' | dd of="$run/checkpoint.safetensors" bs=1 seek=$((8 + header)) conv=notrunc 2>/dev/null
    refused "$run" "load_checkpoint: '$run/checkpoint.safetensors': tensor '[a-z_.0-9]+' fails its checksum" \
      "$gantry" mog eval --run "$run"
    refused "$run" "tensor '[a-z_.0-9]+' fails its checksum" "$gantry" mog train --resume --steps 30 --out "$run"
    ;;
  second_process_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    # A resumed run that keeps training (no log lines, no checkpoints until it ends) holds the lock.
    "$gantry" mog train --resume --steps 100000000 --log-every 0 --checkpoint-every 0 --quiet --out "$run" &
    trainer=$!
    background=$trainer
    wait_for_lock "$trainer"
    refused "$run" "run folder: '$run' is in use by another gantry process \\(pid $trainer\\)" \
      "$gantry" mog train --resume --steps 200 --out "$run"
    refused "$run" "is in use by another gantry process \\(pid $trainer\\)" "$gantry" $tiny_args --out "$run" --restart
    # mog eval reads the folder while it is locked.
    passes "step 20 of 100000000" "$gantry" mog eval --run "$run" --samples 100
    kill "$trainer"
    wait "$trainer"
    background=""
    ;;
  resume_command_after_restart)
    tiny --out "$run" >/dev/null || fail "first run failed"
    "$gantry" $tiny_args --steps 100000000 --log-every 0 --checkpoint-every 0 --restart --out "$run" >"$work/stopped.out" 2>&1 &
    trainer=$!
    background=$trainer
    wait_for_lock "$trainer"
    kill -TERM "$trainer"
    wait "$trainer"
    status=$?
    background=""
    cat "$work/stopped.out"
    [ "$status" -eq 143 ] || fail "exit status $status, expected 143 (SIGTERM)"
    resume=$(grep -A1 "To resume, run:" "$work/stopped.out" | tail -1)
    case "$resume" in
      *--restart*) fail "the resume command would discard the run again: $resume" ;;
      *--resume*) ;;
      *) fail "no resume command printed" ;;
    esac
    ;;
  eval_unwritable_output_refused)
    tiny --out "$run" >/dev/null || fail "first run failed"
    refused "$run" "--json: cannot write '/proc/gantry_eval.json'" "$gantry" mog eval --run "$run" --json /proc/gantry_eval.json
    printf '%s\n' "$out" | grep -q "high quality" && fail "the evaluation ran before the --json path was checked"
    refused "$run" "--png: '$work' is a folder, not a file" "$gantry" mog eval --run "$run" --png "$work"
    refused "$run" "--json: folder '/nonexistent' does not exist" "$gantry" mog eval --run "$run" --json /nonexistent/e.json
    ;;
  huge_coreset_factor_refused)
    refused "$run" "--fx: the data core-set factor must be at most 1000, got 1e\\+09" \
      "$gantry" mog train --coreset-data --fx 1e9 --out "$run"
    refused "$run" "--fz: 100 x batch 20000 = 2e\\+06 candidates per step exceeds the limit of 1048576" \
      "$gantry" mog train --coreset-prior --fz 100 --batch 20000 --out "$run"
    [ ! -e "$run" ] || fail "the run folder was created"
    ;;
  grid_restarts_run_without_checkpoint)
    grid="$work/grid"
    set -- mog grid --modes 4 --methods baseline,topk --seeds 1 --jobs 1 --steps 10 --batch 16 --eval-samples 200 --out "$grid"
    passes "0 finished earlier" "$gantry" "$@"
    ! grep -q decay_every "$grid/m4_baseline_seed0/config.json" || fail "the baseline run records a top-k decay period"
    grep -q '"decay_every": 1,' "$grid/m4_topk_seed0/config.json" || fail "the top-k run lost its decay period"
    # A run stopped before its first checkpoint: config.json but nothing to resume.
    rm "$grid/m4_topk_seed0/checkpoint.safetensors" "$grid/m4_topk_seed0/metrics.json"
    passes "1 finished earlier \\(kept\\), 0 to resume from their checkpoints, 1 new" "$gantry" "$@"
    printf '%s\n' "$out" | grep -Eq "\\[1/1\\] done +[^ ]*m4_topk_seed0" || fail "the top-k run did not train again"
    expect_value "$grid/m4_topk_seed0/metrics.json" finished true
    refused "$grid" "mog grid: '$grid/m4_baseline_seed0' holds a run of 10 steps but the grid asks for 5" "$gantry" "$@" --steps 5
    ;;
  compare_rerun_keeps_finished)
    out_dir="$work/compare"
    passes "0 finished earlier" "$gantry" mog compare --steps 10 --batch 16 --progress-every 0 --out "$out_dir"
    passes "3 finished earlier \\(kept\\), 0 to resume from their checkpoints, 0 new" \
      "$gantry" mog compare --steps 10 --batch 16 --progress-every 0 --out "$out_dir"
    ;;
  directions_rerun)
    out_dir="$work/directions"
    set -- mog directions --train-steps 10 --modes 4 --latents 50 --batch 200 --quiet --out "$out_dir"
    passes "wrote" "$gantry" "$@"
    refused "$out_dir" "mog directions: '$out_dir/baseline' already holds a baseline run; analyse it again with --checkpoint $out_dir/baseline, or pass --restart" \
      "$gantry" "$@"
    passes "discarded the earlier run" "$gantry" "$@" --restart
    ;;
  eval_stored_without_checkpoint)
    # A finished run's stored evaluation samples re-score to its metrics.json without the checkpoint.
    tiny --out "$work/stored" --restart >/dev/null || fail "tiny run failed"
    [ -f "$work/stored/eval_samples.npz" ] || fail "no eval_samples.npz"
    rm "$work/stored/checkpoint.safetensors"
    passes "stored samples of the final evaluation" "$gantry" mog eval --run "$work/stored" --stored --json "$work/stored.json"
    for key in high_quality_percent modes_recovered_percent within_mode_std; do
      [ "$(json_value "$work/stored.json" "$key")" = "$(json_value "$work/stored/metrics.json" "$key")" ] ||
        fail "$key: '$(json_value "$work/stored.json" "$key")' re-scored, '$(json_value "$work/stored/metrics.json" "$key")' recorded"
    done
    refused "$work/stored" "--repeats does not apply with --stored" "$gantry" mog eval --run "$work/stored" --stored --repeats 2
    rm "$work/stored/eval_samples.npz"
    refused "$work/stored" "eval_samples.npz' does not exist" "$gantry" mog eval --run "$work/stored" --stored
    ;;
  directions_at_steps)
    # Analysed at steps 10, 20 and 30 of one baseline trained in stages: the analysis at 30 equals that of
    # a baseline trained straight to 30 steps (each stage resumes the last bit-identically).
    out_dir="$work/directions_staged"
    rm -rf "$out_dir" "$work/directions_straight"
    set -- --modes 4 --latents 50 --batch 200 --quiet
    passes "wrote .*directions_over_training.md" "$gantry" mog directions --at-steps 10,20,30 "$@" --out "$out_dir"
    for step in 10 20 30; do
      [ -f "$out_dir/step_$step/directions.png" ] || fail "no step_$step/directions.png"
      grep -q "\"baseline_step\": $step" "$out_dir/step_$step/directions.json" || fail "step_$step analysed another step"
    done
    rows=$(grep -c '^| [0-9]' "$out_dir/directions_over_training.md")
    [ "$rows" = 15 ] || fail "directions_over_training.md has $rows rows, expected 3 steps x 5 bins"
    passes "wrote" "$gantry" mog directions --train-steps 30 "$@" --out "$work/directions_straight"
    cmp "$out_dir/step_30/directions.csv" "$work/directions_straight/directions.csv" ||
      fail "the staged analysis at step 30 differs from a baseline trained straight to 30 steps"
    cmp -s "$out_dir/step_10/directions.csv" "$out_dir/step_30/directions.csv" && fail "steps 10 and 30 analysed the same"
    refused "$out_dir" "--at-steps: the steps must increase, got 20 before 10" "$gantry" mog directions --at-steps 20,10 "$@" --out "$out_dir"
    refused "$out_dir" "--train-steps and --at-steps are mutually exclusive" "$gantry" mog directions --at-steps 10 --train-steps 5 "$@" --out "$out_dir"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS $case_name"
