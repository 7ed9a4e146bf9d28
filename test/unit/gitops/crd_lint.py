#!/usr/bin/env python3
"""Static checks of crds/bluegreen.io_bluegreenreleases.yaml that the API server does not make:
every property has a description (kubectl explain shows them), the names and printer columns are
the ones docs promise, the request annotations are documented, and lists/strings have bounds."""
import sys
import yaml

path = sys.argv[1]
crd = yaml.safe_load(open(path))
errors = []


def walk(node, where):
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        here = f"{where}.{name}" if where else name
        if here != "metadata" and not str(prop.get("description", "")).strip():
            errors.append(f"{here}: no description")
        if prop.get("type") == "array" and here.startswith("spec") and "maxItems" not in prop:
            errors.append(f"{here}: array without maxItems (CEL cost and request size)")
        walk(prop, here)
        if "items" in prop:
            walk(prop["items"], here + "[]")


spec = crd["spec"]
names = spec["names"]
want_names = {"kind": "BlueGreenRelease", "listKind": "BlueGreenReleaseList", "plural": "bluegreenreleases",
              "singular": "bluegreenrelease", "shortNames": ["bgr"], "categories": ["all"]}
for k, v in want_names.items():
    if names.get(k) != v:
        errors.append(f"names.{k}: {names.get(k)!r}, want {v!r}")
if spec["group"] != "bluegreen.io" or spec["scope"] != "Namespaced":
    errors.append("group/scope")
versions = spec["versions"]
if [v["name"] for v in versions] != ["v1alpha1"] or not versions[0]["served"] or not versions[0]["storage"]:
    errors.append("versions: want v1alpha1 served and storage")
v = versions[0]
want_sub = {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                   "labelSelectorPath": ".status.selector"}}
if v.get("subresources") != want_sub:
    errors.append(f"subresources: want {want_sub}")
cols = [(c["name"].upper(), c["jsonPath"]) for c in v["additionalPrinterColumns"]]
want_cols = [("ACTIVE", ".status.activeColor"), ("REVISION", ".status.activeRevision"),
             ("PREVIEW", ".status.previewRevision"), ("STAGE", ".status.stage"),
             ("READY", '.status.conditions[?(@.type=="Ready")].status'), ("AGE", ".metadata.creationTimestamp")]
if cols != want_cols:
    errors.append(f"printer columns: {cols}")
schema = v["schema"]["openAPIV3Schema"]
for ann in ("bluegreen.io/promote", "bluegreen.io/abort"):
    if ann not in schema.get("description", ""):
        errors.append(f"top-level description does not document {ann}")
walk(schema, "")
status = schema["properties"]["status"]["properties"]
if status["history"].get("maxItems") != 10:
    errors.append("status.history: maxItems must be 10")
cond = status["conditions"]
if cond.get("x-kubernetes-list-type") != "map" or cond.get("x-kubernetes-list-map-keys") != ["type"]:
    errors.append("status.conditions: want a map list keyed by type")

for e in errors:
    print("FAIL", e)
print(f"crd lint: {len(errors)} problem(s) in {path}")
sys.exit(1 if errors else 0)
