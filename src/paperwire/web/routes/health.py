"""Liveness: a trivial JSON endpoint, also the throughput ceiling in benchmarks."""

from fastapi import APIRouter

router = APIRouter()


@router.get("/healthz", tags=["meta"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
