"""Write tests/data/mlflow.db.gz with the real mlflow library (pip install 'mlflow>=3.7').

Since MLflow 3.7 a run logged without a tracking URI goes to `mlflow.db`, an SQLite file, where it
went to the `mlruns/` folder before. The values are a formula of the step, so the test checks what
lrforecast reads against what was logged, without mlflow installed. Written with mlflow 3.17.2.
Runs: "pilot" (300 steps, a NaN loss at step 150), "cooldown", a deleted run, and a second "pilot"
in another experiment.
"""

import gzip
import math
import os
import shutil
import tempfile
from pathlib import Path


def loss(step: int) -> float:
    return 3.0 + 5.0 / math.sqrt(step + 10)


def lr(step: int) -> float:
    return 3e-4 * 0.5 * (1 + math.cos(math.pi * step / 300))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        mlflow.set_experiment("lrforecast-fixture")
        with mlflow.start_run(run_name="pilot"):
            for step in range(300):
                mlflow.log_metrics({"train/loss": float("nan") if step == 150 else loss(step),
                                    "learning_rate": lr(step)}, step=step)
                if step % 100 == 0:
                    mlflow.log_metric("eval/loss", loss(step) + 0.05, step=step)
        with mlflow.start_run(run_name="cooldown"):
            for step in range(0, 200, 10):
                mlflow.log_metrics({"train/loss": loss(step) - 0.1, "learning_rate": 1e-4}, step=step)
        with mlflow.start_run(run_name="deleted") as run:
            mlflow.log_metric("train/loss", 9.0, step=0)
        mlflow.delete_run(run.info.run_id)
        mlflow.set_experiment("other")
        with mlflow.start_run(run_name="pilot"):
            for step in range(50):
                mlflow.log_metric("train/loss", loss(step) + 1.0, step=step)
        out = Path(__file__).resolve().parent / "mlflow.db.gz"
        with open(f"{tmp}/mlflow.db", "rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)


if __name__ == "__main__":
    main()
