"""Deployment: export a model for SageMaker, serve it locally with the same contract, call it.

* :mod:`~convlab.deploy.contract`: what ``/invocations`` accepts and answers (shipped as
  the SageMaker ``code/inference.py``).
* :mod:`~convlab.deploy.export`: ``model.keras`` + ``convlab.json`` + ``model.tar.gz``.
* :mod:`~convlab.deploy.server`: ``convlab serve``, a local endpoint.
* :mod:`~convlab.deploy.client`: the same payloads to the local server or to SageMaker.

Keras is imported only when a model is saved or loaded.
"""

from convlab.deploy.client import (
    ServingError,
    encode_payload,
    payload_from_file,
    predict_local,
    predict_sagemaker,
)
from convlab.deploy.contract import Contract, InputError
from convlab.deploy.export import ExportedModel, ExportError, export_model, read_export
from convlab.deploy.server import InferenceServer, Predictor, running_server, serve

__all__ = [
    "Contract",
    "ExportError",
    "ExportedModel",
    "InferenceServer",
    "InputError",
    "Predictor",
    "ServingError",
    "encode_payload",
    "export_model",
    "payload_from_file",
    "predict_local",
    "predict_sagemaker",
    "read_export",
    "running_server",
    "serve",
]
