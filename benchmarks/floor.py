"""The framework floor: what FastAPI and the server cost on a hook body before any clinical work.

It reads the body as the service does (the same size cap and the same bounded JSON parser) and answers
`{"cards": []}` with the same response class, so `service / floor` is what the service adds. Served by
benchmarks/throughput.py with exactly the server settings of the service it is compared with."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cds_service.api.deps import read_json
from cds_service.config import Settings
from cds_service.server import freeze_startup_heap

__all__ = ["app"]

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
app.state.settings = Settings()  # the same request size cap


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/cds-services/{service_id}")
async def hook(service_id: str, request: Request) -> JSONResponse:
    await read_json(request)
    return JSONResponse({"cards": []})


# As the service's workers do: the imported modules out of the collector's sight, so the floor's tail latency
# is the framework's, not that of full collections over objects that live as long as the process.
freeze_startup_heap()
