"""The OpenAPI 3.1 document of ``/api/v1``: written by hand here, in one place, next to nothing
else. ``tests/web/test_api_contract.py`` checks that every API route is documented, every
documented path exists, and every response the tests see matches its documented schema.

The intake and complaint forms' JSON Schemas come from ``bianmin.forms.to_json_schema`` (one
component per jurisdiction and form; ``GET .../items/{item}/form`` serves an item's own).
"""

from __future__ import annotations

from typing import Any

from ..forms import to_json_schema
from ..workflow.submission import forms_of
from .context import Web

VERSION = "1.0.0"
REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad request", 401: "no valid token", 403: "role or jurisdiction refused",
             404: "not found", 409: "state or version conflict", 413: "body too large",
             422: "invalid data (field errors)"}
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


def _param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


J = _param("jurisdiction", "pack id, e.g. xupu")
N = _param("number", "case or complaint number")
STD = (401, 403, 404)

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object", "required": ["path", "message"], "properties": {
                "path": {"type": "string"}, "message": {"type": "string"}}}}}}}},
    "Jurisdiction": {"type": "object", "required": ["id", "name", "version", "effective_from"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "string"},
        "effective_from": {"type": "string", "format": "date"}}},
    "Item": {"type": "object", "required": ["id", "code", "name", "kind", "type", "promised", "statutory", "form"],
             "properties": {k: {"type": "string"} for k in
                            ("id", "code", "name", "kind", "type", "promised", "statutory", "form")}},
    "Clock": {"type": "object", "required": ["clock", "name", "status", "level", "limit", "deadline"], "properties": {
        "clock": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string"},
        "level": {"type": "string"}, "limit": {"type": "string"},
        "deadline": {"type": ["string", "null"], "format": "date"}, "remaining": {"type": ["number", "null"]},
        "unit": {"type": "string"}, "provisional": {"type": "boolean"},
        "explanation": {"type": "array", "items": {"type": "object"}}}},
    "Event": {"type": "object", "required": ["seq", "at", "transition", "from", "to", "actor"], "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string"}, "transition": {"type": "string"},
        "from": {"type": "string"}, "to": {"type": "string"}, "actor": {"type": "string"},
        "acting_for": {"type": ["string", "null"]}}},
    "Case": {"type": "object", "required": ["number", "jurisdiction", "item", "state", "state_name", "version",
                                            "created_at", "updated_at", "subject", "events", "deadlines"],
             "properties": {
                 "number": {"type": "string"}, "jurisdiction": {"type": "string"}, "item": {"type": ["string", "null"]},
                 "state": {"type": "string"}, "state_name": {"type": "string"}, "version": {"type": "integer"},
                 "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "subject": {"type": "object"},
                 "events": {"type": "array", "items": _ref("Event")},
                 "deadlines": {"type": "array", "items": _ref("Clock")}}},
    "Deadline": {"type": "object", "required": ["number", "clocks"], "properties": {
        "number": {"type": "string"}, "clocks": {"type": "array", "items": _ref("Clock")}}},
    "Complaint": {"type": "object", "required": ["number", "jurisdiction", "state", "state_name", "version",
                                                 "created_at", "subject", "identity_visible"], "properties": {
        "number": {"type": "string"}, "jurisdiction": {"type": "string"}, "state": {"type": "string"},
        "state_name": {"type": "string"}, "version": {"type": "integer"}, "created_at": {"type": "string"},
        "subject": {"type": "object"}, "identity_visible": {"type": "boolean"}}},
    "NewCase": {"type": "object", "required": ["item", "data"], "properties": {
        "item": {"type": "string", "description": "item id (GET .../items)"},
        "data": {"type": "object", "description": "the item's form (GET .../items/{item}/form)"}}},
    "TransitionRequest": {"type": "object", "properties": {
        "data": {"type": "object", "description": "the transition's form, if it has one"},
        "expected_version": {"type": "integer", "description": "the case version the client saw (optimistic lock)"}}},
    "Rating": {"type": "object", "required": ["level"], "properties": {
        "level": {"type": "string"}, "comment": {"type": "string", "maxLength": 500},
        "channel": {"type": "string"}}},
    "Rated": {"type": "object", "required": ["number", "level"], "properties": {
        "number": {"type": "string"}, "level": {"type": "string"}}},
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/jurisdictions": {"get": {
        "summary": "jurisdictions with their pack version in force", "operationId": "jurisdictions",
        "responses": {"200": _json({"type": "array", "items": _ref("Jurisdiction")}), **_errors(401, 403)}}},
    "/api/v1/{jurisdiction}/items": {"get": {
        "summary": "the item catalogue", "operationId": "items", "parameters": [J],
        "responses": {"200": _json({"type": "array", "items": _ref("Item")}), **_errors(*STD)}}},
    "/api/v1/{jurisdiction}/items/{item}/form": {"get": {
        "summary": "the item's intake form as JSON Schema (draft 2020-12)", "operationId": "itemForm",
        "parameters": [J, _param("item", "item id")],
        "responses": {"200": _json({"type": "object"}), **_errors(*STD)}}},
    "/api/v1/{jurisdiction}/cases": {"post": {
        "summary": "receive an application (create a case)", "operationId": "createCase", "parameters": [
            J, {"name": "Idempotency-Key", "in": "header", "required": False,
                "description": "a retry with the same key returns the first case (200) instead of a second one",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewCase")}}},
        "responses": {"201": _json(_ref("Case"), "created"), "200": _json(_ref("Case"), "replayed (idempotency key)"),
                      **_errors(400, 401, 403, 404, 413, 422)}}},
    "/api/v1/{jurisdiction}/cases/{number}": {"get": {
        "summary": "a case with its events and deadlines", "operationId": "getCase", "parameters": [J, N],
        "responses": {"200": _json(_ref("Case")), **_errors(*STD)}}},
    "/api/v1/{jurisdiction}/cases/{number}/deadline": {"get": {
        "summary": "the case's clocks, each with its day-by-day explanation", "operationId": "deadline",
        "parameters": [J, N], "responses": {"200": _json(_ref("Deadline")), **_errors(*STD)}}},
    "/api/v1/{jurisdiction}/cases/{number}/transitions/{name}": {"post": {
        "summary": "take a transition of the case's workflow", "operationId": "transition",
        "parameters": [J, N, _param("name", "transition id")],
        "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("TransitionRequest")}}},
        "responses": {"200": _json(_ref("Case")), **_errors(400, 401, 403, 404, 409, 413, 422)}}},
    "/api/v1/{jurisdiction}/cases/{number}/ratings": {"post": {
        "summary": "rate a completed case (好差评), once", "operationId": "rateCase", "parameters": [J, N],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Rating")}}},
        "responses": {"201": _json(_ref("Rated"), "stored"), **_errors(400, 401, 403, 404, 409, 413, 422)}}},
    "/api/v1/{jurisdiction}/complaints": {"post": {
        "summary": "register a complaint", "operationId": "createComplaint", "parameters": [J],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "description": "the jurisdiction's complaint form: components ComplaintForm_<jurisdiction>"}}}},
        "responses": {"201": _json(_ref("Complaint"), "created"), **_errors(400, 401, 403, 404, 413, 422)}}},
    "/api/v1/{jurisdiction}/complaints/{number}": {"get": {
        "summary": "a complaint; the complainant's identity only for the roles the pack names",
        "operationId": "getComplaint", "parameters": [J, N],
        "responses": {"200": _json(_ref("Complaint")), **_errors(*STD)}}},
}


def document(web: Web) -> dict[str, Any]:
    schemas = dict(SCHEMAS)
    for pack in web.jurisdictions():
        forms, choices = forms_of(pack)
        if "complaint" in forms:
            form_schema = to_json_schema(forms["complaint"], None, choices=choices)
            form_schema.pop("$schema", None)
            schemas[f"ComplaintForm_{pack.id}"] = form_schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "bianmin API", "version": VERSION,
                 "description": "Token-authenticated API for integrators (Authorization: Bearer). "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\": [{\"path\", \"message\"}]}}."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
