"""Run the build job (or a selection) in one Dagster run and summarise what happened."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from dagster_project.definitions import BUILD_JOB, build_definitions, partition_range_tags
from dagster_project.settings import Settings

SELECTION_JOB = "build_selection"


@dataclass
class BuildOutcome:
    success: bool
    run_id: str
    settings: Settings
    materialized: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # dbt assets not rebuilt: nothing they read had changed
    checks: int = 0
    reused_checks: int = 0  # checks evaluated before on the same data, so not run again

    def report(self, seconds: float) -> str:
        lines = [
            f"{'Built' if self.success else 'FAILED'}: {len(self.materialized)} assets materialised in {seconds:.0f} s "
            f"(run {self.run_id}, years {self.settings.years[0]}-{self.settings.years[-1]}, {self.settings.hs_revision})",
            f"Warehouse: {self.settings.warehouse_path}",
        ]
        if self.unchanged:
            lines.append(f"Unchanged: dbt was not run, nothing it reads had changed ({len(self.unchanged)} models "
                         "and seeds are as the last build left them; --force runs it)")
        if self.reused_checks:
            lines.append(f"Unchanged: {self.reused_checks} of {self.checks} checks had been evaluated on exactly "
                         "this data before, so were not run again (--force runs them)")
        if self.settings.sample:
            lines.append("SYNTHETIC SAMPLE: every number in this warehouse is invented, not real trade data.")
        lines += [f"  - {failure}" for failure in self.failures]
        return "\n".join(lines)


def run_build(settings: Settings, select: str | None = None) -> BuildOutcome:
    """Materialise every asset (or the selection) in one in-process run against the persistent instance."""
    defs = build_definitions(settings)
    job_name = BUILD_JOB
    if select:
        job_name = SELECTION_JOB
        selection_job = dg.define_asset_job(SELECTION_JOB, selection=dg.AssetSelection.from_string(select))
        defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[selection_job]))
    job = defs.resolve_job_def(job_name)
    tags = {}
    if job.partitions_def is not None:
        tags = partition_range_tags(settings)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            instance=instance,
            tags=tags,
            raise_on_error=False,
        )
    materialisations = result.get_asset_materialization_events()
    evaluations = result.get_asset_check_evaluations()
    return BuildOutcome(
        success=result.success,
        run_id=result.run_id,
        settings=settings,
        materialized=sorted({event.asset_key.to_user_string() for event in materialisations}),
        failures=_failures(result),
        unchanged=sorted(event.asset_key.to_user_string() for event in materialisations
                         if _metadata_value(event.materialization.metadata, "rebuilt") is False),
        checks=len(evaluations),
        reused_checks=sum(_metadata_value(evaluation.metadata, "validated_again") is False for evaluation in evaluations),
    )


def _metadata_value(metadata: dict, name: str) -> object:
    entry = metadata.get(name)
    return getattr(entry, "value", entry)


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Readable reasons: failed checks with their descriptions, then failed steps with their errors."""
    reasons = [
        f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed: {evaluation.description}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            # The cause is the user-facing error; the outer message only says that the step failed.
            reasons.append(f"step {event.step_key} failed: {(error.cause or error).message.strip()}")
    return reasons
