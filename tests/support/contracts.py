"""Validate eBay REST bodies against eBay's OpenAPI contracts in tests/contracts.

Strict on field names: object schemas are closed (no undeclared properties), so a misspelt field fails.
Error replies (which the contracts describe only as x-response-codes) are checked against the common
``{"errors": [Error]}`` envelope and the operation's declared error ids.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
# Errors every eBay REST API can give that the per-API contracts do not list.
GENERIC_ERROR_STATUSES = {401: {1001}, 403: {1100}, 429: {2001}}


class ContractError(AssertionError):
    """A body does not match the contract."""


@cache
def load_contract(contract_file: str) -> dict[str, Any]:
    with open(CONTRACTS_DIR / contract_file, encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _closed(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if "$ref" in out:
            # OpenAPI 3.0 ignores siblings of $ref (they are only descriptions).
            return {"$ref": out["$ref"]}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


@cache
def _components(contract_file: str) -> dict[str, Any]:
    comps: dict[str, Any] = _closed(copy.deepcopy(load_contract(contract_file).get("components", {})))
    return comps


def _validate(contract_file: str, schema: dict[str, Any], body: Any, what: str) -> None:
    root = dict(_closed(schema))
    root["components"] = _components(contract_file)
    try:
        jsonschema.Draft7Validator(root).validate(body)
    except jsonschema.ValidationError as exc:
        raise ContractError(f"{what}: {exc.message} at {list(exc.absolute_path)}") from exc


def _operation(contract_file: str, path_template: str, method: str) -> dict[str, Any]:
    paths = load_contract(contract_file)["paths"]
    if path_template not in paths:
        raise ContractError(f"{contract_file}: no path {path_template}")
    op = paths[path_template].get(method.lower())
    if op is None:
        raise ContractError(f"{contract_file}: no {method} on {path_template}")
    result: dict[str, Any] = op
    return result


def _declared_error_ids(op: dict[str, Any]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for status, resp in op.get("responses", {}).items():
        codes = (resp.get("x-response-codes") or {}).get("errors") or {}
        out[str(status)] = {int(c) for c in codes}
    return out


def validate_response(contract_file: str, path_template: str, method: str, status: int, body: Any) -> None:
    """Raise ContractError unless (status, body) is a reply the contract allows for this operation."""
    op = _operation(contract_file, path_template, method)
    what = f"{method.upper()} {path_template} {status}"
    responses = op.get("responses", {})
    resp = responses.get(str(status))
    if status in GENERIC_ERROR_STATUSES and resp is None:
        _validate(contract_file, _ERRORS_ENVELOPE, body, what)
        ids = {e["errorId"] for e in body["errors"]}
        if not ids <= GENERIC_ERROR_STATUSES[status]:
            raise ContractError(f"{what}: unexpected error ids {ids}")
        return
    if resp is None:
        raise ContractError(f"{what}: status {status} is not in the contract")
    schema = (((resp.get("content") or {}).get("application/json") or {}).get("schema"))
    if status < 400:
        if schema is None:
            if body not in (None, "", b""):
                raise ContractError(f"{what}: contract declares no body")
            return
        _validate(contract_file, schema, body, what)
        return
    _validate(contract_file, schema or _ERRORS_ENVELOPE, body, what)
    declared = _declared_error_ids(op)
    ids = {e["errorId"] for e in body["errors"]}
    listed = declared.get(str(status)) or set()
    allowed = listed if listed else set().union(*declared.values())
    if not ids <= allowed:
        raise ContractError(f"{what}: error ids {ids} not declared (allowed {sorted(allowed)})")


def validate_request_body(contract_file: str, path_template: str, method: str, body: Any) -> None:
    """Raise ContractError unless ``body`` matches the operation's request body schema."""
    op = _operation(contract_file, path_template, method)
    req = op.get("requestBody")
    if req is None:
        raise ContractError(f"{method.upper()} {path_template}: contract declares no request body")
    schema = req["content"]["application/json"]["schema"]
    _validate(contract_file, schema, body, f"request {method.upper()} {path_template}")


_ERRORS_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "additionalProperties": False,
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "allOf": [
                    {"$ref": "#/components/schemas/Error"},
                    {"required": ["errorId", "domain", "category", "message"]},
                ]
            },
        },
        "warnings": {"type": "array"},
    },
}
