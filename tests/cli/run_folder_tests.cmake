# How the mog commands treat a run folder that already holds a run: refusals that change nothing,
# --resume taking its settings from the folder, --restart, the folder lock, stale temporaries,
# checkpoints that carry their own configuration and checksums (tests/cli/run_folder_case.sh).
set(RUN_FOLDER_CASES
    existing_run_refused unrelated_files_accepted restart_discards resume_fewer_steps_refused
    resume_at_checkpoint_step_reevaluates resume_uses_recorded_config resume_identity_option_refused
    resume_without_config_json eval_without_config_json edited_config_refused stale_temporary_removed
    corrupt_checkpoint_refused second_process_refused resume_command_after_restart eval_unwritable_output_refused huge_coreset_factor_refused
    grid_restarts_run_without_checkpoint compare_rerun_keeps_finished directions_rerun
    directions_at_steps eval_stored_without_checkpoint)
foreach(case IN LISTS RUN_FOLDER_CASES)
  add_test(NAME cli_run_folder_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/run_folder_case.sh ${GANTRY_BIN} ${CLI_OUT}/run_folder ${case})
  set_tests_properties(cli_run_folder_${case} PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "PASS ${case}")
endforeach()

# Settings of a feature that is off are refused rather than stored without effect.
gantry_cli_rejects(gamma_without_topk "--gamma applies only with --topk, --bottomk or --soft-topk" mog train --steps 10 --gamma 0.9 --out ${CLI_OUT}/bad)
gantry_cli_rejects(nu_without_topk "--nu applies only with --topk, --bottomk or --soft-topk" mog train --steps 10 --nu 0.5 --out ${CLI_OUT}/bad)
gantry_cli_rejects(decay_every_without_topk "--decay-every applies only with --topk, --bottomk or --soft-topk" mog train --steps 10 --decay-every 10 --out ${CLI_OUT}/bad)
gantry_cli_rejects(topk_target_without_topk "--topk-target applies only with --topk, --bottomk or --soft-topk" mog train --steps 10 --topk-target d --out ${CLI_OUT}/bad)
gantry_cli_rejects(fz_without_prior_coreset "--fz applies only with --coreset-prior" mog train --steps 10 --coreset-data --fz 2 --out ${CLI_OUT}/bad)
gantry_cli_rejects(fx_without_data_coreset "--fx applies only with --coreset-data" mog train --steps 10 --coreset-prior --fx 2 --out ${CLI_OUT}/bad)
gantry_cli_rejects(anneal_without_coreset "--anneal applies only with --coreset-prior or --coreset-data" mog train --steps 10 --anneal --out ${CLI_OUT}/bad)
gantry_cli_rejects(restart_with_checkpoint "--restart applies to a baseline trained here" mog directions --checkpoint ${CLI_OUT}/tiny --restart --out ${CLI_OUT}/bad)
