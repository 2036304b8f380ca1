"""Rendering the Helm chart in deploy/k8s offline (Helm's Go SDK through helm-python-sdk), the value
sets the tests render, and what a kubelet would make of the objects: pod specs, environments."""

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "k8s"
EXAMPLES = {path.stem: path for path in sorted((CHART / "examples").glob("*.yaml"))}
SERVICES = ("measures", "inspections", "scoring", "notifications")
# Every Kubernetes minor version the chart supports (Chart.yaml kubeVersion: >=1.29).
KUBE_VERSIONS = tuple(f"1.{minor}" for minor in range(29, 38))
RELEASE, NAMESPACE = "prod", "fivetype"

Obj = dict[str, Any]


@functools.cache
def load(chart_dir: Path = CHART) -> helm.Chart:
    return helm.Chart.load(chart_dir)


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLES[name].read_text(encoding="utf-8"))
    return loaded


def render_files(
    values: Mapping[str, Any] | None = None, chart_dir: Path = CHART
) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` would print it."""
    return load(chart_dir).render(
        dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True
    )


def render(values: Mapping[str, Any] | None = None, chart_dir: Path = CHART) -> list[Obj]:
    """Every object the chart renders (hooks and test pods included), NOTES left out."""
    objects: list[Obj] = []
    for path, text in sorted(render_files(values, chart_dir).items()):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def notes(values: Mapping[str, Any] | None = None) -> str:
    return next(text for path, text in render_files(values).items() if path.endswith("NOTES.txt"))


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: found {len(matches)}"
    return matches[0]


def part(name: str) -> str:
    """The object name of one part of the release (a service, "nats")."""
    return f"{RELEASE}-fivetype-{name}"


def deployment(objects: list[Obj], service: str) -> Obj:
    return named(objects, "Deployment", part(service))


def pod_templates(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(owner, pod template or Pod) for every workload: the pods a cluster would run."""
    for o in objects:
        if o["kind"] in {"Deployment", "StatefulSet", "Job"}:
            yield o, o["spec"]["template"]
        elif o["kind"] == "Pod":
            yield o, o


def hook(o: Obj) -> str | None:
    annotations: dict[str, str] = o["metadata"].get("annotations") or {}
    return annotations.get("helm.sh/hook")


def selects(selector: Obj, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def environment(
    container: Obj,
    objects: list[Obj],
    secrets: Mapping[str, Mapping[str, str]],
    pod_name: str = "pod-0",
) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom first, then env in order,
    `$(NAME)` expanded from what is already defined; ConfigMaps come from the rendered objects,
    Secrets (which the admin creates) from `secrets`. A missing object or key raises."""
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "ConfigMap")}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        env[variable["name"]] = _value(variable, env, configmaps, secrets, pod_name)
    return env


def _value(
    variable: Obj,
    env: Mapping[str, str],
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
    pod_name: str,
) -> str:
    if "value" in variable:
        return _REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), variable["value"])
    source = variable["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return secrets[ref["name"]][ref["key"]]
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return configmaps[ref["name"]][ref["key"]]
    assert source["fieldRef"]["fieldPath"] == "metadata.name", source
    return pod_name


# --- values every test file renders -------------------------------------------------------

NATS = part("nats")
SECRET = {"nats": {"auth": {"existingSecret": "fivetype-nats"}}}
ALL_ON: dict[str, Any] = {
    "imagePullSecrets": [{"name": "registry"}],
    "serviceAccount": {"annotations": {"example.com/role": "fivetype"}},
    "serviceDefaults": {
        "autoscaling": {"enabled": True},
        "podAnnotations": {"example.com/team": "office"},
        "priorityClassName": "fivetype",
        "extraEnv": [{"name": "OTEL_SERVICE_NAME", "value": "fivetype"}],
        "extraVolumes": [{"name": "rubrics", "configMap": {"name": "rubrics"}}],
        "extraVolumeMounts": [{"name": "rubrics", "mountPath": "/etc/fivetype/rubrics"}],
        "service": {"type": "ClusterIP", "port": 80, "annotations": {"example.com/a": "b"}},
    },
    "services": {"notifications": {"smtp": {"existingSecret": "fivetype-smtp"}}},
    "nats": {
        "replicas": 3,
        "jetstream": {"syncAlways": True},
        "auth": {"existingSecret": "fivetype-nats"},
        "metrics": {"enabled": True},
        "extraClients": [{"namespaceSelector": {"matchLabels": {"team": "units"}}}],
    },
    "networkPolicy": {
        "allowExternal": False,
        "extraIngress": [{"namespaceSelector": {"matchLabels": {"team": "ingress"}}}],
        "monitoringFrom": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
    },
    "metrics": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
        "dashboards": {"enabled": True},
    },
}
EXTERNAL_URL = {
    "nats": {"enabled": False},
    "externalNats": {"url": "nats://nats.messaging:4222", "streamReplicas": 3},
}
EXTERNAL_SECRET = {
    "nats": {"enabled": False},
    "externalNats": {"existingSecret": "nats-url", "urlKey": "url", "nkeySecret": "nats-nkeys"},
}
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-on": ALL_ON,
    "external-url": EXTERNAL_URL,
    "external-secret": EXTERNAL_SECRET,
    **{f"example-{name}": example(name) for name in EXAMPLES},
}


def merged(*layers: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for layer in layers:
        _merge_into(result, copy.deepcopy(layer))
    return result


def _merge_into(target: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value


def nats_conf(objects: list[Obj]) -> str:
    conf: str = named(objects, "ConfigMap", NATS)["data"]["nats.conf"]
    return conf
