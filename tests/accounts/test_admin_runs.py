"""/admin/runs: admins see recent ingest runs and worker steps, interrupted ones as such."""

from __future__ import annotations

from datetime import timedelta

from paperwire.store import ingest_runs
from paperwire.store.db import utcnow
from paperwire.store.jobs import claim_scheduled_run
from tests.accounts.conftest import login, make_user, new_client


def test_admins_see_runs_with_interrupted_ones_marked(container):
    long_ago = utcnow() - timedelta(hours=2)
    with container.engine.begin() as conn:
        ingest_runs.start_run(conn, source="import", parameters={"paths": ["a.jsonl"]},
                              started_at=long_ago, worker_id="elsewhere:1:ingest-import")
    claim_scheduled_run(container.engine, "daily-embed", "2026-01-05", "elsewhere:2:w",
                        now=long_ago)
    admin = new_client(container)
    make_user(container, "boss", role="admin")
    login(admin, "boss")
    html = admin.get("/admin/runs")
    assert html.status_code == 200
    assert html.text.count('class="run-interrupted"') == 2 and "a.jsonl" in html.text
    data = admin.get("/admin/runs?format=json").json()
    assert [r["state"] for r in data["ingestRuns"]] == ["interrupted"]
    assert [(r["name"], r["key"], r["state"]) for r in data["workerSteps"]] == [
        ("embed", "2026-01-05", "interrupted")]
    assert "/admin/runs" in admin.get("/moderation").text


def test_runs_are_for_admins_only(container):
    assert new_client(container).get("/admin/runs?format=json").status_code == 401
    user = new_client(container)
    make_user(container, "alice")
    login(user, "alice")
    assert user.get("/admin/runs").status_code == 403
    assert user.get("/admin/runs?format=json").status_code == 403
    moderator = new_client(container)
    make_user(container, "mod", role="moderator")
    login(moderator, "mod")
    assert moderator.get("/admin/runs?format=json").status_code == 403
