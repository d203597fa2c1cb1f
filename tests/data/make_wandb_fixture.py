"""Write tests/data/wandb-offline-run.wandb.gz with the real wandb library (pip install wandb).

The values are a formula of the step, so the test checks what lrforecast reads against what was
logged, without wandb installed. Written with wandb 0.31.0 in offline mode.
"""

import gzip
import math
import shutil
import tempfile
from pathlib import Path

import wandb


def loss(step: int) -> float:
    return 3.0 + 5.0 / math.sqrt(step + 10)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = wandb.init(mode="offline", project="lrforecast-fixture", dir=tmp)
        for step in range(400):
            row = {"train/loss": float("nan") if step == 200 else loss(step),
                   "train/lr": 3e-4 * 0.5 * (1 + math.cos(math.pi * step / 400)),
                   "tokens": step * 1024, "train": {"grad_norm": 1.0 + step / 400}}
            if step % 100 == 0:
                row["eval/loss"] = loss(step) + 0.05
            wandb.log(row, step=step)
        run.finish()
        file = next(Path(tmp).glob("wandb/offline-run-*/run-*.wandb"))
        out = Path(__file__).parent / "wandb-offline-run.wandb.gz"
        with file.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)


if __name__ == "__main__":
    main()
