# image grid: its help, and bad input refused with a message naming the option, a non-zero exit and
# no grid folder created (the real grids: tests/e2e/test_image_grid.cpp). Included from
# tests/cli/CMakeLists.txt.
set(NEW_IMAGE_GRID ${CLI_OUT}/image_grid_never_created)
gantry_cli_help(image_grid_help "Options after -- go to every .gantry image train.*--models LIST.*--methods LIST" image grid --help)
gantry_cli_help(image_group_lists_grid "image grid +run a grid of image trainings" image --help)

# gantry_image_grid_rejects(name regex args...): refused before the grid folder is created.
function(gantry_image_grid_rejects name regex)
  add_test(NAME cli_rejects_image_grid_${name}
           COMMAND ${EXPECT_UNCHANGED} ${NEW_IMAGE_GRID} "${regex}" ${GANTRY_BIN} image grid --jobs 1 --steps 5
                   --out ${NEW_IMAGE_GRID} ${ARGN})
  set_tests_properties(cli_rejects_image_grid_${name} PROPERTIES LABELS unit)
endfunction()

gantry_image_grid_rejects(unknown_model "--models: unknown model 'stylegan' \\(expected one of dcgan, msgan, wgan-gc, wgan-gp, sngan, sagan\\)"
                          --models dcgan,stylegan)
gantry_image_grid_rejects(unknown_method "--methods: unknown method 'magic'" --methods baseline,magic)
gantry_image_grid_rejects(duplicate_model "--models: sngan is listed twice" --models sngan,dcgan,sngan)
gantry_image_grid_rejects(empty_model_entry "--models has an empty entry in 'dcgan,,sngan'" --models dcgan,,sngan)
gantry_image_grid_rejects(trailing_comma "--methods has an empty entry in 'topk,'" --methods topk,)
gantry_image_grid_rejects(jobs_above_cores "--jobs: 100000 runs at once is more than the [0-9]+ CPU cores of this machine; use --jobs [0-9]+ or fewer"
                          --jobs 100000)
gantry_image_grid_rejects(zero_seeds "--seeds: must be >= 1, got 0" --seeds 0)
# Options after -- go to `gantry image train`: those the grid sets per run, stray words, options of a
# feature no method uses, and bad run settings are refused before anything runs.
gantry_image_grid_rejects(option_set_by_grid "--seed after -- is set by the grid for each run" -- --seed 3)
gantry_image_grid_rejects(stray_word "'image-size' after -- is not an option of gantry image train" -- image-size 32)
gantry_image_grid_rejects(unused_feature_option "--fx after -- applies to none of the grid's methods"
                          --methods baseline,topk -- --fx 2)
gantry_image_grid_rejects(unknown_run_option "gantry image train: unknown option --colour" -- --colour red)
gantry_image_grid_rejects(bad_run_option "--image-size: must be 16, 32 or 64, got 28" -- --image-size 28)
gantry_image_grid_rejects(nu_above_batch "--nu: .*must not exceed the batch size 8" --methods baseline,topk -- --batch 8 --nu 9)
# Method options after -- reach only the runs whose method uses them: a baseline run given --nu would
# be refused ("--nu applies only with --topk"), so this grid's planning passes only with the filter.
add_test(NAME cli_image_grid_method_options_only_to_their_runs
         COMMAND sh -c "rm -rf \"$1\" && exec \"$0\" image grid --methods baseline,topk,coreset --seeds 1 --steps 5 --summary-only --out \"$1\" -- --batch 8 --nu 4 --fx 2"
                 ${GANTRY_BIN} ${CLI_OUT}/image_grid_planned)
set_tests_properties(cli_image_grid_method_options_only_to_their_runs PROPERTIES LABELS unit
                     PASS_REGULAR_EXPRESSION "6 runs \\(2 models x 3 methods x 1 seeds\\).*nothing trains.*6 run\\(s\\) not finished yet")
