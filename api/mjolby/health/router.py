from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mjolby.deps import HealthMonitorDep
from mjolby.health.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Är assistenten redo?",
    description=(
        "200 only when the trained model is loaded, the action server answers and the "
        "database is reachable; otherwise 503 with the same shape. `bot` is `starting` "
        "while Rasa answers without a model or the action server is not up yet, and "
        "`down` when Rasa does not answer. `status` is `degraded` when the bot is down "
        "or the database fails. Probed at most every 2 seconds."
    ),
    responses={503: {"model": HealthOut, "description": "Not ready"}},
)
async def health(monitor: HealthMonitorDep) -> JSONResponse:
    result = await monitor.check()
    body = HealthOut(status=result.status, bot=result.bot.value)
    return JSONResponse(body.model_dump(), status_code=200 if result.ready else 503,
                        headers={"Cache-Control": "no-store"})
