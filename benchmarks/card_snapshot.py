"""The cards the service answers for the benchmark bodies, uuids left out: a before/after guard for speed work.

python -m benchmarks.card_snapshot var/cards-before.json   # then change the code, and:
python -m benchmarks.card_snapshot var/cards-after.json && diff var/cards-before.json var/cards-after.json
"""

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings

from .bodies import HOOKS, body

SIZES = (10, 300, 1000, 5000)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def snapshot() -> dict[str, Any]:
    answers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{Path(tmp) / 'cards.sqlite3'}"))
        with TestClient(app) as client:
            templates = {s["id"]: s["prefetch"] for s in client.get("/cds-services").json()["services"]}
            for service in HOOKS:
                for size in SIZES:
                    for lang in ("en", "zh-CN"):
                        response = client.post(
                            f"/cds-services/{service}?lang={lang}",
                            content=body(service, size, templates[service]),
                            headers={"Content-Type": "application/json"},
                        )
                        text = _UUID.sub("<uuid>", response.text)
                        answers[f"{service} {size} {lang}"] = {"status": response.status_code, **json.loads(text)}
    return answers


def main() -> None:
    Path(sys.argv[1]).write_text(json.dumps(snapshot(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
