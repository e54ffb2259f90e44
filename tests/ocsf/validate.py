"""Validate OCSF documents against the OCSF schema compiled from its own repository.

    validate.py SCHEMA_DIR [--expect-invalid] FILE... [--expect-invalid FILE...]

SCHEMA_DIR is an OCSF schema repository (tests/ocsf/schema-1.8.0). ocsf-lib compiles it (the
classes with their profiles and extensions resolved, as the OCSF server does); the compiled
schema is turned into a JSON Schema (draft 2020-12) that is strict: every attribute must be
one the class or object defines (only `unmapped` and `json_t` values are open), with its type,
its enum values, its requirement and the object's constraints (at_least_one, just_one). Then
the rules JSON Schema cannot say are checked: `type_uid` is `class_uid * 100 + activity_id`,
the category is the class's, an enum's caption sibling (`severity` for `severity_id`) is the
caption of its id, an attribute of a profile appears only when `metadata.profiles` names the
profile, a named profile's required attributes are present, and nothing deprecated is used.

Each FILE holds JSON lines or one JSON array of documents. Files after --expect-invalid must
each hold at least one invalid document (the validator's own negative test). Exit status 0
when every expectation holds, 1 otherwise; the errors say which file, document and path.
"""

import json
import sys

import jsonschema
from ocsf.compile.compiler import Compilation
from ocsf.compile.options import CompilationOptions
from ocsf.repository import read_repo
from ocsf.schema import to_dict

NUMERIC = {"integer_t": "integer", "long_t": "integer", "float_t": "number", "boolean_t": "boolean"}


def compile_schema(path):
    repo = read_repo(path, preserve_raw_data=False)
    return to_dict(Compilation(repo, CompilationOptions()).build())


def scalar_schema(schema, type_name):
    """The JSON Schema of a scalar OCSF type (following derived types to their base)."""
    out = {}
    name = type_name
    while name in schema["types"]:
        t = schema["types"][name]
        if t.get("regex") and "pattern" not in out:
            out["pattern"] = t["regex"]
        if t.get("max_len") and "maxLength" not in out:
            out["maxLength"] = t["max_len"]
        if t.get("range") and "minimum" not in out:
            out["minimum"], out["maximum"] = t["range"]
        if name == "json_t":
            return {}
        if name in NUMERIC:
            out["type"] = NUMERIC[name]
            return out
        if name == "string_t":
            out["type"] = "string"
            return out
        name = t.get("type")
    raise SystemExit(f"validate.py: unknown OCSF type {type_name!r}")


def attribute_schema(schema, attr):
    type_name = attr.get("type")
    if type_name == "object":  # `unmapped`: any object (the schema's `object` has no attributes)
        item = {"type": "object"}
    elif type_name in schema["objects"]:
        item = {"$ref": f"#/$defs/{type_name}"}
    else:
        item = scalar_schema(schema, type_name)
        if attr.get("enum"):
            values = list(attr["enum"].keys())
            if item.get("type") == "integer":
                values = [int(v) for v in values]
            item = dict(item, enum=values)
    if attr.get("is_array"):
        return {"type": "array", "items": item}
    return item


def record_schema(schema, record):
    """A class's or an object's JSON Schema: its attributes only, those required and not from
    a profile required (a profile's are checked against metadata.profiles separately)."""
    properties = {name: attribute_schema(schema, a) for name, a in record["attributes"].items()}
    required = sorted(
        name
        for name, a in record["attributes"].items()
        if a.get("requirement") == "required" and not a.get("profile")
    )
    out = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    constraints = record.get("constraints") or {}
    all_of = []
    if constraints.get("at_least_one"):
        all_of.append({"anyOf": [{"required": [n]} for n in constraints["at_least_one"]]})
    if constraints.get("just_one"):
        all_of.append({"oneOf": [{"required": [n]} for n in constraints["just_one"]]})
    if all_of:
        out["allOf"] = all_of
    return out


class Validator:
    def __init__(self, schema):
        self.schema = schema
        self.classes = {c["uid"]: c for c in schema["classes"].values()}
        self.categories = {c["uid"]: name for name, c in schema["categories"].items()}
        self.defs = {name: record_schema(schema, o) for name, o in schema["objects"].items()}
        self.validators = {}

    def validator(self, cls):
        """The class's JSON Schema validator, built the first time a document of it is seen."""
        uid = cls["uid"]
        if uid not in self.validators:
            document = dict(record_schema(self.schema, cls), **{"$defs": self.defs})
            document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            jsonschema.Draft202012Validator.check_schema(document)
            self.validators[uid] = jsonschema.Draft202012Validator(document)
        return self.validators[uid]

    def errors(self, doc):
        if not isinstance(doc, dict):
            return ["a document is not a JSON object"]
        cls = self.classes.get(doc.get("class_uid"))
        if cls is None:
            return [f"class_uid {doc.get('class_uid')!r} is no OCSF {self.schema['version']} class"]
        errors = [
            f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
            for e in self.validator(cls).iter_errors(doc)
        ]
        if errors:
            return errors
        if doc["type_uid"] != doc["class_uid"] * 100 + doc["activity_id"]:
            errors.append(f"type_uid {doc['type_uid']} is not class_uid * 100 + activity_id")
        category = cls.get("category")
        if self.categories.get(doc["category_uid"]) != category:
            errors.append(f"category_uid {doc['category_uid']} is not the class's category {category}")
        profiles = set(doc.get("metadata", {}).get("profiles", []))
        for name in profiles:
            if name not in self.schema["profiles"]:
                errors.append(f"metadata.profiles names no profile {name!r}")
        for name, a in cls["attributes"].items():
            profile = a.get("profile")
            if profile and name in doc and profile not in profiles:
                errors.append(f"{name}: attribute of profile {profile!r}, not in metadata.profiles")
            if profile in profiles and a.get("requirement") == "required" and name not in doc:
                errors.append(f"{name}: required by profile {profile!r}")
        self.walk(doc, cls, "", errors)
        return errors

    def walk(self, value, record, path, errors):
        """Deprecation and enum-caption checks, recursively through objects."""
        for name, v in value.items():
            attr = record["attributes"].get(name)
            if attr is None:
                continue
            here = f"{path}{name}"
            if attr.get("@deprecated"):
                errors.append(f"{here}: deprecated in OCSF {self.schema['version']}")
            enum = attr.get("enum")
            if enum and name.endswith("_id") and not attr.get("is_array"):
                sibling = name[: -len("_id")]
                entry = enum.get(str(v)) or {}
                caption = entry.get("caption")
                if sibling in value and v != 99 and caption and value[sibling] != caption:
                    errors.append(f"{path}{sibling}: {value[sibling]!r} is not {caption!r}, the caption of {here} {v}")
            if name == "type_uid" and "type_name" in value and enum:
                caption = (enum.get(str(v)) or {}).get("caption")
                if caption and value["type_name"] != caption:
                    errors.append(f"{path}type_name: {value['type_name']!r} is not {caption!r}")
            target = self.schema["objects"].get(attr.get("type"))
            if target is None:
                continue
            if target.get("@deprecated"):
                errors.append(f"{here}: object {attr['type']} is deprecated")
            items = v if isinstance(v, list) else [v]
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    suffix = f"/{i}/" if isinstance(v, list) else "/"
                    self.walk(item, target, here + suffix, errors)


def documents(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    validator = Validator(compile_schema(argv[1]))
    ok = True
    expect_invalid = False
    for arg in argv[2:]:
        if arg == "--expect-invalid":
            expect_invalid = True
            continue
        docs = documents(arg)
        failures = [(i, validator.errors(d)) for i, d in enumerate(docs)]
        failures = [(i, e) for i, e in failures if e]
        if expect_invalid:
            if not failures:
                ok = False
                print(f"{arg}: expected an invalid document, all {len(docs)} are valid", file=sys.stderr)
            else:
                print(f"{arg}: rejected as expected: {failures[0][1][0]}")
            continue
        if not docs:
            ok = False
            print(f"{arg}: no document to validate", file=sys.stderr)
        for i, errors in failures:
            ok = False
            for e in errors:
                print(f"{arg}: document {i} (class {docs[i].get('class_uid')}): {e}", file=sys.stderr)
        classes = sorted({d.get("class_uid") for d in docs if isinstance(d, dict)})
        if not failures and docs:
            print(f"{arg}: {len(docs)} documents valid (classes {classes})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
