#!/usr/bin/env python3
"""Checks recorded HTTP exchanges against an OpenAPI 3.1 document.

    openapi_check.py SPEC                  # validate the document only
    openapi_check.py SPEC EXCHANGES.json   # validate it, then every exchange against it

EXCHANGES is a JSON array of ``{"method", "path", "status", "headers", "body"}`` (as written by
``scripts/demo_report.py run --record``); an optional ``bodyText`` holds the body as sent (so a body
that is not JSON is caught) and an optional ``event`` names the exchange in the output. For each
exchange it:

1. finds the operation: the path (its query, if any, dropped) against the path templates, the
   method in that path item. A request no template or method matches is checked against the
   document's ``x-resetgate-unrouted`` responses (what the function answers outside its routes);
2. finds the response for the status (exact, then ``4XX``-style, then ``default``); a status the
   operation does not document is a violation;
3. checks ``Content-Type`` against the response's media types (none documented: no body);
4. validates the body against the media type's schema as JSON Schema 2020-12 (OpenAPI 3.1's
   dialect), ``$ref``s resolved within the document, ``format`` asserted;
5. checks every header the response marks ``required`` is present, and that the headers it
   documents conform to their schemas (a value is read as an integer, number or boolean where the
   schema says so).

The document itself is validated with openapi-spec-validator first. Prints one line per exchange
and every violation; exits 0 when there is none, 1 when there are violations, 2 on bad input.
Needs PyYAML, jsonschema and openapi-spec-validator (all in .cache/venv).
"""

import argparse
import json
import re
import sys
from urllib.parse import unquote

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_URI = "urn:resetgate:openapi-document"
UNROUTED = "x-resetgate-unrouted"


class BadInput(Exception):
    """Input that cannot be checked at all (exit 2)."""


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Spec:
    def __init__(self, document: dict):
        self.doc = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.templates = []
        for template in (document.get("paths") or {}):
            names = re.findall(r"{([^}/]+)}", template)
            regex = "^" + "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"({[^}/]+})", template)
                if part
            ) + "/?$"
            self.templates.append((len(names), template, re.compile(regex)))
        # Literal paths first, then the fewest parameters (OpenAPI's matching rule).
        self.templates.sort(key=lambda t: (t[0], t[1]))

    def resolve(self, node: dict, pointer: str):
        """Follows ``$ref``s (local ones) from node at pointer: (node, its pointer)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise BadInput(f"unsupported or circular $ref {ref!r} at {pointer}")
            seen.add(ref)
            pointer = ref[1:]
            node = self.doc
            for token in ref[2:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                try:
                    node = node[token]
                except (KeyError, IndexError, TypeError):
                    raise BadInput(f"$ref {ref!r} points at nothing") from None
        return node, pointer

    def operation(self, method: str, path: str):
        """(description, responses, pointer to them) for a request, or None."""
        for _, template, regex in self.templates:
            if regex.match(path):
                item, item_pointer = self.resolve(
                    self.doc["paths"][template], "/paths/" + pointer_escape(template)
                )
                op = item.get(method.lower()) if method.lower() in METHODS else None
                if op is None:
                    return self.unrouted(f"{method.upper()} {template} (not an operation)")
                return (
                    f"{method.upper()} {template}",
                    op.get("responses") or {},
                    f"{item_pointer}/{method.lower()}/responses",
                )
        return self.unrouted(f"{method.upper()} {path} (no path template)")

    def unrouted(self, name: str):
        fallback = self.doc.get(UNROUTED)
        if not isinstance(fallback, dict):
            return None
        return name, fallback.get("responses") or {}, f"/{UNROUTED}/responses"

    def schema_validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )


def media_type_essence(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def media_type_matches(documented: str, actual: str) -> bool:
    documented = media_type_essence(documented)
    if documented in ("*/*", actual):
        return True
    if documented.endswith("/*"):
        return actual.split("/", 1)[0] == documented[:-2]
    return False


def is_json_media_type(essence: str) -> bool:
    return essence == "application/json" or essence.endswith("+json")


def coerce_header(value: str, schema: dict):
    """A header value as the type its schema names (headers are text on the wire)."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else (kinds or [])
    text = value.strip()
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    return value


SECRET_MEMBERS = ("password", "temporaryPassword")


def redacted(value):
    """The body with non-empty secret members replaced (validation messages quote the instance,
    and this output may land in CI logs). Types and emptiness are kept, so the verdict is not."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if k in SECRET_MEMBERS and isinstance(v, str) and v else redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def schema_errors(validator: Draft202012Validator, instance) -> list:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        # The innermost failures of a combinator say more than "is not valid under ...".
        leaves = []
        stack = list(error.context or [])
        while stack:
            sub = stack.pop()
            if sub.context:
                stack.extend(sub.context)
            else:
                leaves.append(sub)
        detail = error.message
        if leaves and error.validator in ("allOf", "anyOf", "oneOf", "not", "if", "then", "else"):
            detail += " [" + "; ".join(sorted({leaf.message for leaf in leaves})[:4]) + "]"
        out.append(f"{where}: {shorten(detail)}")
    return out


def check_exchange(spec: Spec, exchange: dict) -> tuple:
    """(operation name, violations) for one recorded exchange."""
    try:
        method = str(exchange["method"])
        raw_path = str(exchange["path"])
        status = int(exchange["status"])
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"exchange without method, path and status: {json.dumps(exchange)[:200]}")
    headers = {str(k).lower(): v for k, v in (exchange.get("headers") or {}).items()}
    path = raw_path.split("?", 1)[0]
    violations = []

    found = spec.operation(method, path)
    if found is None:
        return f"{method} {path}", [f"no operation for {method.upper()} {path}"]
    name, responses, responses_pointer = found

    key = str(status)
    if key not in responses:
        key = f"{str(status)[0]}XX" if f"{str(status)[0]}XX" in responses else "default"
    if key not in responses:
        documented = ", ".join(sorted(responses)) or "none"
        return name, [f"status {status} is not documented (documented: {documented})"]
    response, response_pointer = spec.resolve(
        responses[key], f"{responses_pointer}/{pointer_escape(key)}"
    )

    # Content type and body.
    content = response.get("content") or {}
    content_type = headers.get("content-type")
    if isinstance(content_type, list):
        content_type = ",".join(content_type)
    body_text = exchange.get("bodyText")
    has_body = bool(body_text) if body_text is not None else exchange.get("body") is not None
    if method.upper() == "HEAD":
        pass  # no body in an answer to HEAD, whatever its Content-Type says
    elif not content:
        if has_body:
            violations.append(f"status {status} documents no body, but one was sent")
    elif not content_type:
        violations.append(f"no Content-Type (documented: {', '.join(content)})")
    else:
        essence = media_type_essence(content_type)
        matches = [m for m in content if media_type_matches(m, essence)]
        # The most specific documented media type wins.
        matches.sort(key=lambda m: ("*" in m, -len(m)))
        if not matches:
            violations.append(
                f"Content-Type {content_type!r} is not documented for {status} "
                f"(documented: {', '.join(content)})"
            )
        else:
            media = matches[0]
            media_object, media_pointer = spec.resolve(
                content[media], f"{response_pointer}/content/{pointer_escape(media)}"
            )
            if "schema" in media_object and is_json_media_type(essence):
                body = exchange.get("body")
                parsed_ok = True
                if body_text is not None:
                    try:
                        body = json.loads(body_text)
                    except ValueError:
                        parsed_ok = False
                        violations.append(f"the body is not JSON: {body_text[:120]!r}")
                if parsed_ok:
                    validator = spec.schema_validator(f"{media_pointer}/schema")
                    violations.extend(f"body {e}" for e in schema_errors(validator, redacted(body)))

    # Headers.
    for header_name, header in (response.get("headers") or {}).items():
        if header_name.lower() == "content-type":
            continue  # OpenAPI: ignored in response headers
        header, header_pointer = spec.resolve(
            header, f"{response_pointer}/headers/{pointer_escape(header_name)}"
        )
        value = headers.get(header_name.lower())
        if value is None:
            if header.get("required"):
                violations.append(f"required header {header_name} is missing")
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if "schema" in header:
            schema, schema_pointer = spec.resolve(header["schema"], f"{header_pointer}/schema")
            validator = spec.schema_validator(schema_pointer)
            for error in schema_errors(validator, coerce_header(str(value), schema)):
                violations.append(f"header {header_name}: {error}")
    return name, violations


def load(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise BadInput(f"cannot read {what} {path}: {e}") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="the OpenAPI document (YAML or JSON)")
    parser.add_argument("exchanges", nargs="?", help="JSON array of recorded exchanges")
    parser.add_argument("-q", "--quiet", action="store_true", help="print violations only")
    args = parser.parse_args()

    try:
        document = load(args.spec, "the OpenAPI document")
        if not isinstance(document, dict):
            raise BadInput(f"{args.spec} is not an OpenAPI document")
        try:
            validate_spec(document)
        except Exception as e:  # the validator's own exception types vary between versions
            print(f"FAIL {args.spec} is not a valid OpenAPI document: {e}", file=sys.stderr)
            return 1
        if not str(document.get("openapi", "")).startswith("3.1"):
            print(f"FAIL {args.spec}: expected OpenAPI 3.1, found {document.get('openapi')!r}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"ok   {args.spec} is a valid OpenAPI {document['openapi']} document")
        if args.exchanges is None:
            return 0

        exchanges = load(args.exchanges, "the exchanges")
        if not isinstance(exchanges, list) or not exchanges:
            raise BadInput(f"{args.exchanges} holds no exchanges")
        spec = Spec(document)
        failed = 0
        covered = {}
        for exchange in exchanges:
            name, violations = check_exchange(spec, exchange)
            label = exchange.get("event") or f"{exchange.get('method')} {unquote(str(exchange.get('path')))}"
            covered.setdefault(name, set()).add(int(exchange["status"]))
            if violations:
                failed += 1
                print(f"FAIL {label}: {name} -> {exchange['status']}")
                for violation in violations:
                    print(f"       - {violation}")
            elif not args.quiet:
                print(f"ok   {label}: {name} -> {exchange['status']}")
    except BadInput as e:
        print(f"openapi_check: {e}", file=sys.stderr)
        return 2

    if not args.quiet:
        print("covered: " + "; ".join(
            f"{name} [{', '.join(str(s) for s in sorted(statuses))}]"
            for name, statuses in sorted(covered.items())
        ))
    print(f"{len(exchanges) - failed} of {len(exchanges)} exchanges conform to {args.spec}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
