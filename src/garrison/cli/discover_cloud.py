"""``garrison discover aws|azure|gcp``: parse options, run the cloud source, hand it to record_run.

The SDKs are optional extras; each command imports its source only when it runs, so a missing
SDK is a clear error naming the extra (``pip install 'garrison[aws]'``), not a broken CLI.
"""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli.discover import DryRunOption, JsonOption, record_run
from garrison.core.errors import GarrisonError

OrgOption = Annotated[
    str | None, typer.Option("--org", help="Organization the assets belong to (default: default).")
]


def aws(  # noqa: PLR0917 - Typer maps each option to a parameter
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="A region to discover (repeatable).")
    ] = None,
    all_regions: Annotated[
        bool,
        typer.Option(
            "--all-regions",
            help="Every region where Bedrock or SageMaker exists (botocore's endpoint data).",
        ),
    ] = False,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile name.")] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service", help="Limit to bedrock, bedrock-agent or sagemaker (repeatable)."
        ),
    ] = None,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Attempts per call (standard retry mode).")
    ] = 5,
    org: OrgOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Bedrock (custom models, provisioned throughput, inference profiles, guardrails, agents,
    knowledge bases) and SageMaker endpoints and models that the account uses."""
    from garrison.inventory.discovery import aws as source

    if all_regions and region:
        raise GarrisonError("give --region or --all-regions, not both")
    session = source.make_session(profile)
    regions = source.bedrock_regions(session) if all_regions else list(region or [])
    if not regions and session.region_name:
        regions = [session.region_name]
    discovery = source.AwsDiscovery(
        session,
        regions,
        services=tuple(service) if service else source.SERVICES,
        all_regions=all_regions,
        max_attempts=max_attempts,
        org=org,
    )
    record_run(discovery.run(), dry_run=dry_run, as_json=as_json)


def azure(
    subscription: Annotated[
        list[str], typer.Option("--subscription", "-s", help="Subscription ID (repeatable).")
    ],
    org: OrgOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Azure OpenAI and AI Services accounts and their model deployments."""
    from garrison.inventory.discovery.azure import AzureDiscovery

    record_run(AzureDiscovery(subscription, org=org).run(), dry_run=dry_run, as_json=as_json)


def gcp(
    project: Annotated[str, typer.Option("--project", "-p", help="Project ID.")],
    location: Annotated[
        list[str], typer.Option("--location", "-l", help="Vertex AI location (repeatable).")
    ],
    org: OrgOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Vertex AI models and endpoints (with the models deployed on them)."""
    from garrison.inventory.discovery.gcp import VertexDiscovery

    record_run(VertexDiscovery(project, location, org=org).run(), dry_run=dry_run, as_json=as_json)
