"""The price table, the usage profiles' arithmetic, and bad cost data."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pingvas_infra.cost.data import (
    UsageProfile,
    load_profiles,
    load_workload,
)
from pingvas_infra.cost.report import IDLE, REFERENCE
from pingvas_infra.price_tables import (
    PriceTableError,
    PriceTableNotFound,
    load_price_table,
    price_table,
    priced_regions,
    region_gaps,
    table_regions,
)
from pingvas_infra.tables import read_table
from tests.cost.builders import ZERO_PROFILE


def test_every_price_names_its_source_and_the_table_its_date_and_region() -> None:
    table = load_price_table("us-east-1")
    assert table.region == "us-east-1"
    assert table.date.year >= 2026
    assert table.hours_per_month == 730
    assert all(entry.source.strip() for entry in table.prices.values())
    assert table.ec2_on_demand.source and table.rds_instances.source
    assert all(prices.source for prices in table.elasticache_nodes.values())
    assert 0.6 <= table.spot_discount.fraction <= 0.7  # the range the sources give
    assert table.spot_discount.source


def test_a_region_without_a_table_is_not_priced_with_another_regions_prices() -> None:
    with pytest.raises(PriceTableNotFound) as error:
        load_price_table("sa-east-1")
    assert "sa-east-1" in str(error.value)
    assert "us-east-1" in str(error.value)  # names the priced regions
    assert "pingvas_infra/tables/prices/sa-east-1.yaml" in str(error.value)


def test_only_a_table_with_every_figure_makes_a_priced_region() -> None:
    assert table_regions() == ["ap-northeast-2", "eu-west-1", "us-east-1", "us-west-2"]
    assert priced_regions() == ["us-east-1"]
    # What the others lack, by name: no source gave these figures (never read as 0).
    assert region_gaps("us-west-2") == [
        "aurora-io-million",
        "aurora-iopt-acu-hour",
        "aurora-storage-gb-month",
        "backup-efs-warm-gb-month",
    ]
    assert "efs-ia-gb-month" in region_gaps("ap-northeast-2")
    assert region_gaps("sa-east-1") == ["no price table"]
    for region in table_regions():
        table = load_price_table(region)
        for key in table.missing_prices():
            assert table.prices[key].usd is None


def test_every_figure_names_its_source_and_the_day_it_was_read() -> None:
    for region in table_regions():
        table = load_price_table(region)
        sections = [*table.prices.values(), table.ec2_on_demand, *table.elasticache_nodes.values()]
        for entry in sections:
            assert entry.source.strip()
            assert entry.date <= table.date


def test_the_table_file_agrees_with_its_name() -> None:
    assert read_table("prices/us-east-1.yaml")["region"] == "us-east-1"


def test_guide_reference_gpu_hours_cost_the_guides_200_dollars() -> None:
    table = load_price_table("us-east-1")
    reference = load_profiles()[REFERENCE]
    hourly = table.ec2_on_demand.hourly[load_workload().reference_instance]
    spend = sum(
        pool.gpu_hours * hourly * (pool.spot_share * table.spot_factor + 1 - pool.spot_share)
        for pool in reference.gpu.pools.values()
    )
    assert spend == pytest.approx(200, abs=0.01)
    # Split like the design guide's GPU quotas: dev 3, prod 15.
    pools = reference.gpu.pools
    assert pools["dev"].gpu_hours / pools["prod"].gpu_hours == pytest.approx(3 / 15, rel=1e-3)
    assert pools["dev"].spot_share == 1.0


def test_guide_reference_traffic_and_storage_cost_the_guides_60_and_80_dollars() -> None:
    prices = load_price_table("us-east-1").prices
    reference = load_profiles()[REFERENCE]
    internet = reference.internet
    assert internet.data_transfer_out_gb * prices["data-transfer-out-gb"].usd == pytest.approx(
        60, abs=0.01
    )
    s3 = sum(reference.s3.stored_gb.values()) * prices["s3-standard-gb-month"].usd
    cloudfront = internet.cloudfront_gb * prices["cloudfront-gb"].usd
    assert s3 + cloudfront == pytest.approx(80, abs=0.01)


def test_guide_reference_aurora_writer_load_is_the_guides_87_dollars_an_instance() -> None:
    price = load_price_table("us-east-1").prices["aurora-acu-hour"].usd
    aurora = load_profiles()[REFERENCE].aurora
    assert aurora.writer_average_acu is not None and price is not None
    assert aurora.writer_average_acu * 730 * price == pytest.approx(87, abs=1)
    # Nothing is sent to the reader endpoint (the services' DATABASE_URL names the writer).
    assert aurora.reader_average_acu is None


def test_idle_has_no_traffic_no_gpu_and_nothing_stored() -> None:
    idle = load_profiles()[IDLE]
    assert all(pool.gpu_hours == 0 for pool in idle.gpu.pools.values())
    assert idle.aurora.writer_average_acu is None
    assert idle.aurora.writer_connected  # the services' connection pools stay open
    assert idle.internet.data_transfer_out_gb == idle.internet.cloudfront_gb == 0
    assert idle.nat.processed_gb == 0
    assert sum(idle.s3.stored_gb.values()) == 0
    assert idle.efs.standard_gb == 0


def test_both_profiles_use_the_same_spot_shares_and_purposes() -> None:
    idle, reference = load_profiles()[IDLE], load_profiles()[REFERENCE]
    assert {e: p.spot_share for e, p in idle.gpu.pools.items()} == {
        e: p.spot_share for e, p in reference.gpu.pools.items()
    }
    assert set(idle.s3.stored_gb) == set(reference.s3.stored_gb)


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(ZERO_PROFILE)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("nat", "processedGb"), -1),
        (("gpu", "pools"), {"dev": {"gpuHours": 10, "spotShare": 1.5}}),
        (("gpu", "pools"), {"dev": {"gpuHours": -5, "spotShare": 0.5}}),
        (("aurora", "writerAverageAcu"), -0.5),
        (("aurora", "readerAverageAcu"), -1),
        (("s3", "storedGb"), {"models": -1}),
        (("efs", "standardGb"), "lots"),
        (("nat", "procesedGb"), 5),
        (("internet", "cloudfrontGb"), None),
    ],
)
def test_malformed_profiles_are_refused(path: tuple[str, ...], value: Any) -> None:
    with pytest.raises(ValidationError):
        UsageProfile.model_validate(_with(path, value))


def test_a_malformed_or_misnamed_table_is_refused_naming_the_file() -> None:
    table = copy.deepcopy(read_table("prices/us-east-1.yaml"))
    with pytest.raises(PriceTableError, match=r"eu-west-1\.yaml: says region us-east-1"):
        price_table(table, "eu-west-1")
    del table["spotDiscount"]
    table["region"] = "eu-west-2"
    with pytest.raises(PriceTableError, match=r"tables/prices/eu-west-2\.yaml.*spotDiscount"):
        price_table(table, "eu-west-2")
