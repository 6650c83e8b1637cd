"""Checks HTTP answers against the Airbyte OpenAPI spec (api.yaml) and its problem bodies (api-problems.yaml).

Success bodies are validated against the schema api.yaml declares for that path, method and
status; error bodies against the api-problems.yaml problem their `type` and `title` name. Two
adjustments make the check stricter than the spec alone, never looser:
- objects with declared `properties` refuse undeclared ones, so a misspelt field (`jobID`) fails
  instead of passing as an extra;
- OpenAPI 3.0 `nullable: true` becomes JSON Schema's `null` type.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "airbyte"
API_URI = "urn:airbyte:api"
PROBLEMS_URI = "urn:airbyte:api-problems"
CONFIG_URI = "urn:airbyte:config"
# Where the Configuration API's paths (config.yaml: "/v1/jobs/get" …) are served.
CONFIG_ROOT = "/api"


class ApiSpec:
    def __init__(self, api: dict[str, Any], problems: dict[str, Any]) -> None:
        self.api = api
        self._registry = Registry().with_resources(
            [
                (API_URI, DRAFT202012.create_resource(_closed(_nullable(copy.deepcopy(api))))),
                (PROBLEMS_URI, DRAFT202012.create_resource(_nullable(copy.deepcopy(problems)))),
            ]
        )
        self._problems = _problem_index(problems)
        # Literal paths first, so /applications/token wins over /applications/{applicationId}.
        self._templates = sorted(api["paths"], key=lambda template: (template.count("{"), template))

    @classmethod
    def load(cls, spec_dir: Path = SPEC_DIR) -> ApiSpec:
        api = yaml.safe_load((spec_dir / "api.yaml").read_text())
        problems = yaml.safe_load((spec_dir / "api-problems.yaml").read_text())
        return cls(api, problems)

    def template_of(self, path: str) -> str | None:
        """The api.yaml path template a concrete path (relative to the base URL) matches."""
        for template in self._templates:
            if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
                return template
        return None

    def body_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Why `body` is not what api.yaml declares for this answer; empty when it is."""
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}/content/application~1json/schema"
        return _errors(self._registry, f"{API_URI}#{quote(pointer, safe='/~')}", body)

    def problem_errors(self, body: Any) -> list[str]:
        """Why `body` is not a problem defined in api-problems.yaml; empty when it is."""
        if not isinstance(body, dict):
            return [f"a problem is a JSON object, got {type(body).__name__}"]
        name = self._problems.get((body.get("type"), body.get("title"), body.get("status")))
        if name is None:
            return [f"no problem in api-problems.yaml has type {body.get('type')!r}, title "
                    f"{body.get('title')!r} and status {body.get('status')!r}"]
        return _errors(self._registry, f"{PROBLEMS_URI}#/components/schemas/{name}", body)

    def response_errors(self, response: httpx.Response, method: str, template: str | None) -> list[str]:
        """Everything wrong with `response` as an answer to `method template`; empty when conformant."""
        content_type = response.headers.get("content-type", "")
        if not response.is_success:
            if not content_type.startswith("application/problem+json"):
                return [f"an error must be application/problem+json, got {content_type!r}"]
            return self.problem_errors(response.json())
        if template is None:
            return [f"{response.request.url.path} is not a path of api.yaml"]
        operation = self.api["paths"][template].get(method.lower())
        if operation is None:
            return [f"api.yaml has no {method} {template}"]
        declared = operation["responses"].get(str(response.status_code))
        if declared is None:
            return [f"api.yaml does not declare {response.status_code} for {method} {template}"]
        if "application/json" not in declared.get("content", {}):
            # Declared without a JSON body: 204 carries none, /health answers plain text.
            if response.status_code == 204 and response.content:
                return ["a 204 answer must have no body"]
            return []
        if not content_type.startswith("application/json"):
            return [f"{method} {template} must answer application/json, got {content_type!r}"]
        return self.body_errors(method, template, response.status_code, response.json())


class ConfigSpec:
    """config.yaml, the Configuration API: success and declared error bodies, checked the same strict way."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._registry = Registry().with_resource(
            CONFIG_URI, DRAFT202012.create_resource(_closed(_nullable(copy.deepcopy(config))))
        )

    @classmethod
    def load(cls, spec_dir: Path = SPEC_DIR) -> ConfigSpec:
        return cls(yaml.safe_load((spec_dir / "config.yaml").read_text()))

    def response_errors(self, response: httpx.Response, method: str, path: str) -> list[str]:
        template = path.removeprefix(CONFIG_ROOT)
        operation = self.config["paths"].get(template, {}).get(method.lower())
        if operation is None:
            return [f"config.yaml has no {method} {template}"]
        declared = operation["responses"].get(str(response.status_code))
        if declared is None:
            return [f"config.yaml does not declare {response.status_code} for {method} {template}"]
        if "$ref" in declared:  # a shared response, e.g. NotFoundResponse
            declared = self.config["components"]["responses"][declared["$ref"].rsplit("/", 1)[-1]]
        schema = declared["content"]["application/json"]["schema"]
        if not response.headers.get("content-type", "").startswith("application/json"):
            return [f"{method} {template} must answer application/json"]
        return self.body_errors(schema, response.json())

    def body_errors(self, schema: dict[str, Any], body: Any) -> list[str]:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _errors(self._registry, f"{CONFIG_URI}#/components/schemas/{name}", body)


def _errors(registry: Registry, uri: str, instance: Any) -> list[str]:
    validator = Draft202012Validator(
        {"$ref": uri}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(instance)]


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


def _problem_index(problems: dict[str, Any]) -> dict[tuple[Any, Any, Any], str]:
    """(type, title, status) -> schema name; api-problems.yaml fixes them as `default`s."""
    index = {}
    for name, schema in problems["components"]["schemas"].items():
        for part in schema.get("allOf", []):
            fields = part.get("properties", {})
            if {"type", "title", "status"} <= fields.keys():
                key = (fields["type"].get("default"), fields["title"].get("default"), fields["status"].get("default"))
                index[key] = name
    return index


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _nullable(value) for key, value in node.items()}
        if node.pop("nullable", False):
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    return node


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _closed(value) for key, value in node.items()}
        if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node
