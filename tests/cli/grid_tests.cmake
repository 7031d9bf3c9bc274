# mog grid input checks: every bad list, --jobs or run option is refused with a message naming the
# option, a non-zero exit, and nothing changed on disk (a finished grid folder stays byte-identical, a
# new --out is not created). Included from tests/cli/CMakeLists.txt.
set(EXPECT_UNCHANGED sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure_unchanged.sh)
set(GUARD_GRID ${CLI_OUT}/grid_guard)
set(NEW_GRID ${CLI_OUT}/grid_never_created)

# A finished one-run grid that the bad invocations below must leave alone.
add_test(NAME cli_mog_grid_guard
         COMMAND sh -c "rm -rf \"$1\" && exec \"$0\" mog grid --modes 4 --methods baseline --seeds 1 --jobs 1 --steps 5 --batch 16 --eval-samples 100 --out \"$1\""
                 ${GANTRY_BIN} ${GUARD_GRID})
set_tests_properties(cli_mog_grid_guard PROPERTIES LABELS unit FIXTURES_SETUP grid_guard
                     PASS_REGULAR_EXPRESSION "\\[1/1\\] done")
# Its run checkpoints every 1000 steps (the grid's default), bounding what a kill -9 loses.
add_test(NAME cli_mog_grid_runs_checkpoint_often COMMAND ${CMAKE_COMMAND} -E cat ${GUARD_GRID}/m4_baseline_seed0/config.json)
set_tests_properties(cli_mog_grid_runs_checkpoint_often PROPERTIES LABELS unit FIXTURES_REQUIRED grid_guard
                     PASS_REGULAR_EXPRESSION "\"checkpoint_every\": 1000,")

# gantry_grid_rejects(name regex args...): refused on the finished grid and on a new folder alike.
function(gantry_grid_rejects name regex)
  set(GRID mog grid --steps 5 --batch 16 --eval-samples 100 --jobs 1)
  add_test(NAME cli_rejects_grid_${name}
           COMMAND ${EXPECT_UNCHANGED} ${GUARD_GRID} "${regex}" ${GANTRY_BIN} ${GRID} ${ARGN} --out ${GUARD_GRID})
  set_tests_properties(cli_rejects_grid_${name} PROPERTIES LABELS unit FIXTURES_REQUIRED grid_guard)
  add_test(NAME cli_rejects_new_grid_${name}
           COMMAND ${EXPECT_UNCHANGED} ${NEW_GRID} "${regex}" ${GANTRY_BIN} ${GRID} ${ARGN} --out ${NEW_GRID})
  set_tests_properties(cli_rejects_new_grid_${name} PROPERTIES LABELS unit)
endfunction()

# A repeated entry would train two processes into one folder and count one run twice.
gantry_grid_rejects(duplicate_modes "--modes: 4 is listed twice" --modes 4,9,4 --methods baseline)
gantry_grid_rejects(duplicate_modes_spelled_apart "--modes: 4 is listed twice" --modes 4,04 --methods baseline)
gantry_grid_rejects(duplicate_methods "--methods: topk is listed twice" --modes 4 --methods topk,baseline,topk)
gantry_grid_rejects(list_of_seeds "--seeds expects an integer, got '1,1'" --modes 4 --methods baseline --seeds 1,1)
gantry_grid_rejects(empty_mode_entry "--modes has an empty entry in '4,,9'" --modes 4,,9 --methods baseline)
gantry_grid_rejects(trailing_comma "--methods has an empty entry in 'baseline,'" --modes 4 --methods baseline,)
gantry_grid_rejects(leading_comma "--modes has an empty entry in ',4'" --modes ,4 --methods baseline)
gantry_grid_rejects(empty_list "--methods expects a comma-separated list" --modes 4 --methods=)
gantry_grid_rejects(jobs_above_cores "--jobs: 100000 runs at once is more than the [0-9]+ CPU cores of this machine; use --jobs [0-9]+ or fewer"
                    --modes 4 --methods baseline --jobs 100000)
gantry_grid_rejects(zero_checkpoint_every "--checkpoint-every: must be >= 1" --modes 4 --methods baseline --checkpoint-every 0)
gantry_grid_rejects(bad_run_option "--lr: must be positive" --modes 4 --methods baseline --lr -1)
# Only the finished grid has a run to conflict with.
add_test(NAME cli_rejects_grid_changed_config_unchanged
         COMMAND ${EXPECT_UNCHANGED} ${GUARD_GRID} "holds a run with batch = 16 but the grid asks for 32" ${GANTRY_BIN}
                 mog grid --modes 4 --methods baseline --seeds 1 --jobs 1 --steps 5 --batch 32 --eval-samples 100 --out ${GUARD_GRID})
set_tests_properties(cli_rejects_grid_changed_config_unchanged PROPERTIES LABELS unit FIXTURES_REQUIRED grid_guard)
