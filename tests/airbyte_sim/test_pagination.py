"""Offset pagination as the real API does it, including its quirks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sophia_mcp.sample.airbyte_sim import seeded
from sophia_mcp.sample.airbyte_sim.seed import GONG_POSTGRES_CONNECTION_ID, WORKSPACE_ID
from tests.airbyte_sim.conftest import SpecCheckedClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def big_client(spec):
    sim = seeded(extra_sources=120, extra_destinations=30, extra_connections=250, extra_jobs=150)
    async with SpecCheckedClient(sim, spec) as checked:
        await checked.authenticate(sim)
        yield checked


def _query(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


async def test_walking_by_offset_returns_every_connection_once(big_client):
    ids, sizes, offset = [], [], 0
    while True:
        page = (await big_client.get("/connections", params={"limit": 100, "offset": offset})).json()
        ids += [row["connectionId"] for row in page["data"]]
        sizes.append(len(page["data"]))
        if len(page["data"]) < 100:
            break
        offset += 100
    assert sizes == [100, 100, 53]
    assert len(set(ids)) == 253


async def test_next_is_present_on_every_page_with_rows_even_the_last(big_client):
    last = (await big_client.get("/connections", params={"limit": 100, "offset": 200})).json()
    assert len(last["data"]) == 53
    assert _query(last["next"])["offset"] == ["300"]
    assert _query(last["previous"])["offset"] == ["100"]
    beyond = (await big_client.get("/connections", params={"limit": 100, "offset": 300})).json()
    assert beyond["data"] == []
    assert "next" not in beyond


async def test_following_next_links_also_walks_everything(big_client):
    link, ids = "/sources?limit=50", []
    while True:
        page = (await big_client.get(link)).json()
        if not page["data"]:
            break
        ids += [row["sourceId"] for row in page["data"]]
        link = page["next"]
    assert len(ids) == len(set(ids)) == 121


async def test_the_first_page_has_no_previous_and_the_default_limit_is_20(big_client):
    page = (await big_client.get("/destinations")).json()
    assert len(page["data"]) == 20
    assert "previous" not in page
    assert _query(page["next"]) == {"limit": ["20"], "offset": ["20"]}


async def test_links_keep_the_filters(big_client):
    page = (await big_client.get("/jobs", params={"connectionId": GONG_POSTGRES_CONNECTION_ID,
                                                  "orderBy": "createdAt|DESC", "limit": 5})).json()
    assert _query(page["next"]) == {"connectionId": [GONG_POSTGRES_CONNECTION_ID], "orderBy": ["createdAt|DESC"],
                                    "limit": ["5"], "offset": ["5"]}


async def test_next_host_puts_a_wrong_host_into_links(airbyte_sim, client):
    airbyte_sim.next_host = "airbyte-server:8001"
    page = (await client.get("/connections", params={"limit": 1, "offset": 1})).json()
    assert urlsplit(page["next"]).netloc == "airbyte-server:8001"
    assert urlsplit(page["previous"]).netloc == "airbyte-server:8001"
    assert urlsplit(page["next"]).path == "/v1/connections"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}])
async def test_out_of_range_paging_is_a_bad_request(client, params):
    response = await client.get("/jobs", params=params)
    assert response.status_code == 400
    assert response.json()["title"] == "bad-request"


async def test_workspace_filter_accepts_repeated_and_comma_separated_ids(client):
    other = "11111111-1111-4111-8111-111111111111"
    comma_separated = {"workspaceIds": f"{WORKSPACE_ID},{other}"}
    repeated = [("workspaceIds", other), ("workspaceIds", WORKSPACE_ID)]
    for params in (comma_separated, repeated):
        assert len((await client.get("/connections", params=params)).json()["data"]) == 3
    assert (await client.get("/connections", params={"workspaceIds": other})).json()["data"] == []


async def test_deleted_connections_are_listed_only_on_request(client):
    await client.delete(f"/connections/{GONG_POSTGRES_CONNECTION_ID}")
    listed = (await client.get("/connections")).json()["data"]
    assert GONG_POSTGRES_CONNECTION_ID not in {row["connectionId"] for row in listed}
    with_deleted = (await client.get("/connections", params={"includeDeleted": "true"})).json()["data"]
    deleted = next(row for row in with_deleted if row["connectionId"] == GONG_POSTGRES_CONNECTION_ID)
    assert deleted["status"] == "deprecated"

