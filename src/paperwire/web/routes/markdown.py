"""A paper as Markdown: GET /papers/{id}.md (as huggingface.co, for `hf papers read`).

GET /papers/{id} with `Accept: text/markdown` gets the same document (pages.py asks
`wants_markdown`). Versioned ids and arXiv URLs are served for their paper directly.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters

router = APIRouter(dependencies=[Depends(reject_nul_characters)])
MARKDOWN = "text/markdown; charset=utf-8"


def wants_markdown(request: Request) -> bool:
    """True when the Accept header prefers Markdown over HTML (or names only Markdown)."""
    accept = request.headers.get("accept", "").lower()
    if "text/markdown" not in accept:
        return False
    ranked = [part.split(";")[0].strip() for part in accept.split(",")]
    md = ranked.index("text/markdown")
    html = ranked.index("text/html") if "text/html" in ranked else len(ranked)
    return md < html


@router.get(
    "/papers/{ref:path}.md",
    tags=["pages"],
    summary="A paper as Markdown (metadata, AI summary, abstract, full text from arXiv HTML)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}}}, 404: {"content": {"text/plain": {}}}},
)
async def paper_markdown(container: ContainerDep, ref: str) -> Response:
    return await markdown_response(container, ref)


async def markdown_response(container, ref: str) -> Response:
    try:
        arxiv_id = parse_arxiv_id(ref).id
    except InvalidArxivId as exc:
        return PlainTextResponse(f"{exc}\n", status_code=404)
    document = await run_in_threadpool(container.fulltext.paper_markdown, arxiv_id)
    if document is None:
        return PlainTextResponse(f"Paper {arxiv_id} not found.\n", status_code=404)
    return Response(document, media_type=MARKDOWN, headers={"Vary": "Accept"})
