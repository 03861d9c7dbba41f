"""The HTTP routes, one module per resource, gathered in one router."""

from fastapi import APIRouter

from engage.serving.routes import model, operations, recommendations

router = APIRouter()
router.include_router(recommendations.router)
router.include_router(model.router)
router.include_router(operations.router)
