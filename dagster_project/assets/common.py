"""What the assets share: the synthetic-sample metadata, where landed data came from, the landing assets' config."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from dagster_project.settings import Settings
from dagster_project.sources import landing

SYNTHETIC_NOTE = "SYNTHETIC SAMPLE: invented numbers in the BACI format, not real trade data"


def synthetic_metadata(synthetic: bool) -> dict[str, dg.MetadataValue]:
    """Whether the asset's numbers are the synthetic sample; with a note that says so loudly when they are."""
    metadata = {"synthetic": dg.MetadataValue.bool(synthetic)}
    if synthetic:
        metadata["data_note"] = dg.MetadataValue.text(SYNTHETIC_NOTE)
    return metadata


def origin_metadata(files: Sequence[landing.LandedFile]) -> dict[str, dg.MetadataValue]:
    """Where landed data came from (the first file's URL) and whether it is the synthetic sample."""
    metadata = synthetic_metadata(any(file.synthetic for file in files))
    if files:
        metadata["source_url"] = dg.MetadataValue.text(files[0].url)
    return metadata


def recorded_files(folder: Path, names: Sequence[str], landing_key: dg.AssetKey) -> list[landing.LandedFile]:
    """The manifest entries of the named landed files; a missing one means the landing asset must run first."""
    remedy = f"materialise {landing_key.to_user_string()} first"
    if not names:
        raise dg.Failure(f"no landed files in {folder} for this configuration: {remedy}")
    found = [landing.recorded_file(folder / name) for name in names]
    missing = [name for name, entry in zip(names, found, strict=True) if entry is None]
    if missing:
        raise dg.Failure(f"{len(missing)} of {len(names)} files are not landed in {folder} (e.g. {missing[0]}): {remedy}")
    return [entry for entry in found if entry is not None]


class LandingConfig(dg.Config):
    """Run config of the landing assets: refresh fetches the source again even when a verified copy is landed."""

    refresh: bool = False


def landing_settings(settings: Settings, config: LandingConfig) -> Settings:
    return dataclasses.replace(settings, refresh=True) if config.refresh else settings
