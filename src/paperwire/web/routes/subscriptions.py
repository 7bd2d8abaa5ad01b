"""Routes for this area."""

from fastapi import APIRouter

router = APIRouter()
