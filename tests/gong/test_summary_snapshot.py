"""The cross-call summary's copy on the local disk (snapshot.py) and its refresh by what arrived since.

A fresh process that starts from a snapshot must answer exactly as one that reads everything from
Postgres: before and after a sync lands rows, after rows were removed, and whatever state the file is in.
"""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.gong.snapshot import MAGIC, SummarySnapshots, snapshot_dir
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.sample.databases import recreate_database
from sophia_mcp.sample.gong_data import load_sample_data

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gong_url(postgres_admin_url: str) -> str:
    """A small sample of its own: these tests change the data."""
    url = await recreate_database(postgres_admin_url, "sophia_test_gong_snapshot")
    await load_sample_data(url, calls=150, seed=5)
    return url


@pytest.fixture
async def admin(gong_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(gong_url)
    yield connection
    await connection.close()


async def answers(url: str, folder: Path | None) -> tuple[dict[str, Any], SummarySnapshots | None]:
    """What a fresh process answers (every deal, tracker counts, the newest changes)."""
    async with ReadOnlyPool(url) as pool:
        repo = GongRepository(pool, snapshot_dir=folder)
        deals: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await repo.list_deals(limit=100, cursor=cursor)
            deals += [deal.model_dump() for deal in page.deals]
            if not (cursor := page.next_cursor):
                break
        brief = await repo.deal_brief(deals[0]["id"])
        trackers = await repo.tracker_stats(by="month")
        changes = await repo.changes_since()
        if repo.snapshots is not None:
            repo.snapshots.wait()
        return {
            "deals": deals,
            "brief": brief.model_dump(exclude={"as_of", "stale"}),
            "trackers": trackers.model_dump(exclude={"as_of", "stale"}),
            "changes": changes.model_dump(exclude={"as_of", "stale"}),
        }, repo.snapshots


async def land_a_sync(admin: asyncpg.Connection, call_id: int, stage: str) -> None:
    """What a sync in append mode lands: a new version of a call (its deals now at `stage`) and a
    new call a day after it, both extracted after everything else."""
    row = await admin.fetchrow(
        'SELECT * FROM "extensiveCalls" WHERE id = $1 ORDER BY _airbyte_extracted_at DESC LIMIT 1', call_id
    )
    extracted = await admin.fetchval('SELECT max(_airbyte_extracted_at) FROM "extensiveCalls"') + timedelta(hours=1)
    context = json.loads(row["context"])
    for system in context:
        for item in system["objects"]:
            if item["objectType"] == "Opportunity":
                for crm_field in item["fields"]:
                    if crm_field["name"] == "StageName":
                        crm_field["value"] = stage
    new_id = await admin.fetchval('SELECT max(id) + 1 FROM "extensiveCalls"')
    columns = list(row.keys())
    for values in (
        {**row, "context": json.dumps(context)},
        {**row, "id": new_id, "startdatetime": row["startdatetime"] + timedelta(days=1), "context": json.dumps(context)},
    ):
        values.update({"_airbyte_raw_id": str(uuid.uuid4()), "_airbyte_extracted_at": extracted})
        names = ", ".join(f'"{name}"' for name in columns)
        placeholders = ", ".join(f"${n + 1}" for n in range(len(columns)))
        await admin.execute(
            f'INSERT INTO "extensiveCalls" ({names}) VALUES ({placeholders})', *[values[name] for name in columns]
        )


async def test_a_fresh_process_with_a_snapshot_answers_as_one_reading_everything(gong_url, tmp_path):
    folder = tmp_path / "snapshots"
    first, snapshots = await answers(gong_url, folder)
    assert snapshots is not None and snapshots.path.exists()
    # Private: the folder and the file are the user's alone; the name says nothing of the database.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(snapshots.path.stat().st_mode) == 0o600
    assert "sophia_test_gong_snapshot" not in snapshots.path.name
    written = snapshots.path.stat().st_mtime_ns

    again, _ = await answers(gong_url, folder)
    without, _ = await answers(gong_url, None)
    assert again == first == without
    assert len(first["deals"]) > 10
    # Nothing arrived: the snapshot is used as it is, not written again.
    assert snapshots.path.stat().st_mtime_ns == written


async def test_a_sync_that_lands_rows_after_the_snapshot_changes_the_answer(gong_url, admin, tmp_path):
    folder = tmp_path / "snapshots"
    before, snapshots = await answers(gong_url, folder)
    deal = before["deals"][0]
    newest = await admin.fetchval(
        'SELECT id FROM "extensiveCalls" WHERE context @> $1::jsonb ORDER BY startdatetime DESC LIMIT 1',
        json.dumps([{"objects": [{"objectId": deal["id"]}]}]),
    )
    await land_a_sync(admin, newest, "Stage Set By The Sync")

    after, _ = await answers(gong_url, folder)
    without, _ = await answers(gong_url, None)
    assert after == without
    moved = next(d for d in after["deals"] if d["id"] == deal["id"])
    assert moved["stage"] == "Stage Set By The Sync"
    assert moved["calls"] == deal["calls"] + 1
    assert moved["last_call"] == deal["last_call"] + timedelta(days=1)
    # The snapshot now holds the new rows too.
    assert snapshots is not None
    refreshed = snapshots.read()
    assert refreshed is not None and refreshed.source is not None
    assert refreshed.source.watermark == await admin.fetchval('SELECT max(_airbyte_extracted_at) FROM "extensiveCalls"')


async def test_rows_removed_since_the_snapshot_are_not_answered_from_it(gong_url, admin, tmp_path):
    """A table rewritten or pruned (an overwrite sync, a cleanup) is read again in full."""
    folder = tmp_path / "snapshots"
    before, _ = await answers(gong_url, folder)
    deal = next(d for d in before["deals"] if d["calls"] > 1)
    # The deal's first call, every version of it (the newest rows stay: the data looks no older).
    await admin.execute(
        'DELETE FROM "extensiveCalls" WHERE id = (SELECT id FROM "extensiveCalls" WHERE context @> $1::jsonb '
        "ORDER BY startdatetime LIMIT 1)",
        json.dumps([{"objects": [{"objectId": deal["id"]}]}]),
    )
    after, _ = await answers(gong_url, folder)
    without, _ = await answers(gong_url, None)
    assert after == without
    (shrunk,) = [d for d in after["deals"] if d["id"] == deal["id"]]
    assert shrunk["calls"] == deal["calls"] - 1


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "another version", "empty"])
async def test_a_damaged_or_foreign_snapshot_is_ignored_and_replaced(gong_url, tmp_path, damage):
    folder = tmp_path / "snapshots"
    expected, snapshots = await answers(gong_url, folder)
    assert snapshots is not None
    data = snapshots.path.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "flipped byte": data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:],
        "another version": b"sophia-mcp gong summary 0.0 python 2.7 marshal 0\n" + data[len(MAGIC) :],
        "empty": b"",
    }[damage]
    snapshots.path.write_bytes(damaged)
    assert snapshots.read() is None

    got, _ = await answers(gong_url, folder)
    assert got == expected
    assert snapshots.read() is not None


async def test_a_snapshot_others_can_write_is_never_read(gong_url, tmp_path):
    """A snapshot is unmarshalled without further checks, so a file another user could have written
    (a shared folder) is ignored, and the answers come from Postgres."""
    folder = tmp_path / "snapshots"
    _, snapshots = await answers(gong_url, folder)
    assert snapshots is not None and snapshots.read() is not None
    snapshots.path.chmod(0o666)
    assert snapshots.read() is None
    snapshots.path.chmod(0o600)
    assert snapshots.read() is not None


async def test_snapshots_nobody_wrote_for_a_month_are_removed(gong_url, tmp_path):
    folder = tmp_path / "snapshots"
    folder.mkdir()
    gone, recent = folder / ("0" * 32 + ".summary"), folder / ("1" * 32 + ".summary")
    gone.write_bytes(b"a database that went away")
    recent.write_bytes(b"a database used last week")
    month_ago = time.time() - 31 * 86400
    os.utime(gone, (month_ago, month_ago))
    _, snapshots = await answers(gong_url, folder)
    assert snapshots is not None and snapshots.path.exists()
    assert not gone.exists() and recent.exists()


async def test_a_folder_that_cannot_be_written_only_means_no_snapshot(gong_url, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    got, snapshots = await answers(gong_url, blocker / "snapshots")
    without, _ = await answers(gong_url, None)
    assert got == without
    assert snapshots is not None and not snapshots.path.exists()


def test_the_setting_chooses_the_folder_or_none(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert snapshot_dir(None) == tmp_path / "sophia-mcp" / "gong-summary"
    assert snapshot_dir("") == tmp_path / "sophia-mcp" / "gong-summary"
    assert snapshot_dir("off") is None and snapshot_dir(" OFF ") is None
    assert snapshot_dir(str(tmp_path / "elsewhere")) == tmp_path / "elsewhere"


def test_the_snapshot_is_named_without_the_password():
    one = ReadOnlyPool("postgresql://reader:s3cret-one@db.example:5432/gong?sslmode=require&password=other")
    two = ReadOnlyPool("postgresql://reader:another@db.example:5432/gong?sslmode=require")
    assert "s3cret-one" not in one.identity and "other" not in one.identity
    assert one.identity == "postgresql://reader@db.example:5432/gong?sslmode=require"
    # A password change keeps the snapshot; another database or role does not share it.
    assert SummarySnapshots(Path("/x"), one.identity).path == SummarySnapshots(Path("/x"), two.identity).path
    other_db = ReadOnlyPool("postgresql://reader:s3cret-one@db.example:5432/gong2")
    assert SummarySnapshots(Path("/x"), other_db.identity).path != SummarySnapshots(Path("/x"), one.identity).path
