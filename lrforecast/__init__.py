"""lrforecast: forecast a language model's loss curve under any learning-rate schedule."""

__version__ = "0.1.0"
