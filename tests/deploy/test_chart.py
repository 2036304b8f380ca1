"""The Helm chart in deploy/k8s, rendered offline: strict lint, values against
values.schema.json, every manifest against the Kubernetes API schemas of each supported version,
and what the rendered objects promise (labels and selectors, probes, restricted security,
migration hooks, checksums, every switch on and off, NATS configurations nats-server accepts)."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

from fivetype import natsauth
from fivetype.natsserver import binary as nats_server
from tests.deploy.chart import (
    ALL_ON,
    CHART,
    EXAMPLES,
    EXTERNAL_SECRET,
    EXTERNAL_URL,
    KUBE_VERSIONS,
    NAMESPACE,
    NATS,
    RELEASE,
    SECRET,
    SERVICES,
    VARIANTS,
    Obj,
    deployment,
    example,
    hook,
    merged,
    named,
    nats_conf,
    notes,
    of_kind,
    part,
    pod_templates,
    render,
    render_files,
    selects,
)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Obj]]:
    return {name: render(values) for name, values in VARIANTS.items()}


# --- lint and values ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("kube_version", [KUBE_VERSIONS[0], KUBE_VERSIONS[-1]])
def test_lint_strict_finds_nothing(variant: str, kube_version: str) -> None:
    report = helm.lint(CHART, VARIANTS[variant], strict=True, kube_version=f"v{kube_version}.0")
    findings = [m for m in report["messages"] if m["severity"] >= 2]  # warnings and errors
    assert not findings and not report["errors"], report


def test_chart_declares_the_supported_kubernetes_versions() -> None:
    metadata = load_chart_yaml()
    assert metadata["apiVersion"] == "v2"
    assert metadata["kubeVersion"] == f">={KUBE_VERSIONS[0]}.0-0"
    tested = metadata["annotations"]["fivetype.io/tested-kube-versions"]
    assert tested == f"{KUBE_VERSIONS[0]}-{KUBE_VERSIONS[-1]}"


def load_chart_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return loaded


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_values_match_the_schema(name: str) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(defaults, schema)
    helm.Chart.load(CHART).validate_schema(example(name))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"unknown": 1}, "unknown"),
        ({"services": {"measures": {"settings": {"NO_SUCH_SETTING": "1"}}}}, "NO_SUCH_SETTING"),
        # Chart-owned settings cannot be overridden by hand.
        ({"services": {"scoring": {"settings": {"DATABASE_URL": "sqlite://"}}}}, "DATABASE_URL"),
        # A setting of another service.
        ({"services": {"scoring": {"settings": {"SMTP_HOST": "smtp"}}}}, "SMTP_HOST"),
        ({"nats": {"replicas": 2}}, "replicas"),
        ({"externalNats": {"url": "nats://user:secret@nats:4222"}}, "url"),
        (
            {"containerSecurityContext": {"allowPrivilegeEscalation": True}},
            "allowPrivilegeEscalation",
        ),
        ({"podSecurityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
        ({"database": {"existingSecret": ""}}, "existingSecret"),
        ({"serviceDefaults": {"resources": {"requests": {"cpu": "lots"}}}}, "cpu"),
    ],
)
def test_schema_refuses_bad_values(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=complaint):
        render(values)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        (merged(EXTERNAL_URL, {"nats": {"enabled": True}}), "choose the bundled NATS or"),
        ({"nats": {"enabled": False}}, "set externalNats.url or externalNats.existingSecret"),
        (
            merged(EXTERNAL_URL, {"externalNats": {"existingSecret": "nats-url"}}),
            "set url or existingSecret, not both",
        ),
        (
            {
                "serviceDefaults": {"resources": {"requests": {"cpu": None}}},
                "services": {"measures": {"autoscaling": {"enabled": True}}},
            },
            "services.measures.autoscaling needs resources.requests.cpu",
        ),
    ],
)
def test_contradictory_values_fail_with_a_clear_message(
    values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(helm.HelmRenderError, match=complaint):
        render(values)


# --- Kubernetes API schemas ---------------------------------------------------------------

CUSTOM = {
    "ServiceMonitor": prometheus_operator.ServiceMonitor,
    "PrometheusRule": prometheus_operator.PrometheusRule,
}


def validate(o: Obj, kube_version: str) -> None:
    model = CUSTOM.get(o["kind"])
    if model is None:
        kubernetes_validate.validate(o, kube_version, strict=True)
        return
    # The operator's CRD models ignore unknown fields; a round trip shows them.
    dumped = model.model_validate(o).model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert dumped == o, f"{o['kind']} has fields its CRD does not define"


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_object_is_valid_for_every_supported_kubernetes(
    rendered: dict[str, list[Obj]], kube_version: str
) -> None:
    edge = kube_version in (KUBE_VERSIONS[0], KUBE_VERSIONS[-1])
    distinct = {
        json.dumps(o, sort_keys=True): o
        for variant, objects in rendered.items()
        if edge or variant == "all-on"
        for o in objects
    }
    for o in distinct.values():
        validate(o, kube_version)


def test_custom_resource_validation_catches_unknown_fields() -> None:
    monitor = of_kind(render(ALL_ON), "ServiceMonitor")[0]
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    with pytest.raises(AssertionError, match="fields its CRD does not define"):
        validate(monitor, KUBE_VERSIONS[-1])


# --- labels and selectors -----------------------------------------------------------------

STANDARD_LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
}
SELECTOR_KEYS = {"app.kubernetes.io/name", "app.kubernetes.io/instance"}


def test_every_object_carries_the_standard_labels(rendered: dict[str, list[Obj]]) -> None:
    for o in rendered["all-on"]:
        labels = o["metadata"]["labels"]
        assert labels.keys() >= STANDARD_LABELS, o["metadata"]["name"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert o["metadata"]["namespace"] == NAMESPACE
    for _owner, pod in pod_templates(rendered["all-on"]):
        assert pod["metadata"]["labels"].keys() >= STANDARD_LABELS


def test_selectors_use_name_and_instance_only(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["all-on"]
    for o in of_kind(objects, "Deployment") + of_kind(objects, "StatefulSet"):
        assert o["spec"]["selector"].keys() == {"matchLabels"}
        assert o["spec"]["selector"]["matchLabels"].keys() == SELECTOR_KEYS
    for o in of_kind(objects, "Service"):
        assert o["spec"]["selector"].keys() == SELECTOR_KEYS
    for o in of_kind(objects, "PodDisruptionBudget"):
        assert o["spec"]["selector"]["matchLabels"].keys() == SELECTOR_KEYS


def test_each_selector_picks_exactly_its_own_pods(rendered: dict[str, list[Obj]]) -> None:
    """A Service, PDB or Deployment that also matched a migration job's or test pod's labels
    would route traffic to it or count it; one that matched nothing would be useless."""
    objects = rendered["all-on"]
    pods = [(owner, pod["metadata"]["labels"]) for owner, pod in pod_templates(objects)]
    selectors = [(o, o["spec"]["selector"]) for o in of_kind(objects, "Deployment")]
    selectors += [(o, o["spec"]["selector"]) for o in of_kind(objects, "StatefulSet")]
    selectors += [(o, {"matchLabels": o["spec"]["selector"]}) for o in of_kind(objects, "Service")]
    selectors += [(o, o["spec"]["selector"]) for o in of_kind(objects, "PodDisruptionBudget")]
    for selecting, selector in selectors:
        owners = [owner for owner, labels in pods if selects(selector, labels)]
        name = selecting["metadata"]["name"]
        assert [o["metadata"]["name"] for o in owners] == [name.removesuffix("-headless")]


def test_topology_spread_and_network_policy_select_the_right_pods(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["all-on"]
    for service in SERVICES:
        template = deployment(objects, service)["spec"]["template"]
        for constraint in template["spec"]["topologySpreadConstraints"]:
            assert selects(constraint["labelSelector"], template["metadata"]["labels"])
    policy = named(objects, "NetworkPolicy", part("services"))
    selected = {
        owner["metadata"]["name"]
        for owner, pod in pod_templates(objects)
        if selects(policy["spec"]["podSelector"], pod["metadata"]["labels"])
    }
    assert selected == {part(s) for s in SERVICES}


# --- containers: command, probes, security ------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_its_command_with_probes_on_health_endpoints(
    rendered: dict[str, list[Obj]], service: str
) -> None:
    spec = deployment(rendered["defaults"], service)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == ["fivetype", "serve", service]
    assert container["image"] == f"fivetype:{load_chart_yaml()['appVersion']}"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {
        "http": 8101 + SERVICES.index(service),
        "metrics": 9101 + SERVICES.index(service),
    }
    expected = {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in expected.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
    # Enough time after SIGTERM for the preStop sleep and the service's shutdown phases
    # (consumers grace/2, outbox grace/2, periodic jobs grace/4).
    grace = float(
        configmap(rendered["defaults"], service)[f"{prefix(service)}SHUTDOWN_GRACE_SECONDS"]
    )
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert spec["terminationGracePeriodSeconds"] > grace * 1.25 + sleep


RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_violations(pod_spec: Obj) -> list[str]:
    """The rules of the restricted Pod Security Standard (baseline included)."""
    problems = [
        f"host namespace {k}" for k in ("hostNetwork", "hostPID", "hostIPC") if pod_spec.get(k)
    ]
    pod_security = pod_spec.get("securityContext", {})
    for volume in pod_spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume['name']} of type {kinds}")
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        security = container.get("securityContext", {})
        name = container["name"]
        if security.get("privileged"):
            problems.append(f"{name}: privileged")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation not false")
        capabilities = security.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{name}: capabilities not dropped")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: capabilities added")
        if not security.get("runAsNonRoot", pod_security.get("runAsNonRoot")):
            problems.append(f"{name}: may run as root")
        if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as UID 0")
        seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
        if seccomp.get("type") not in {"RuntimeDefault", "Localhost"}:
            problems.append(f"{name}: no seccomp profile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{name}: host port")
        if not security.get("readOnlyRootFilesystem"):
            problems.append(f"{name}: writable root filesystem")
    return problems


@pytest.mark.parametrize("variant", ["defaults", "all-on"])
def test_every_pod_meets_the_restricted_pod_security_standard(
    rendered: dict[str, list[Obj]], variant: str
) -> None:
    for owner, pod in pod_templates(rendered[variant]):
        name = owner["metadata"]["name"]
        assert restricted_violations(pod["spec"]) == [], name
        # The services never call the Kubernetes API, nor read service-link variables.
        assert pod["spec"]["automountServiceAccountToken"] is False, name
        assert pod["spec"]["enableServiceLinks"] is False, name


def test_the_restricted_check_finds_violations() -> None:
    pod = {
        "hostNetwork": True,
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        "containers": [{"name": "c", "securityContext": {"runAsUser": 0}}],
    }
    assert len(restricted_violations(pod)) == 8


# --- migrations as hooks ------------------------------------------------------------------


def prefix(service: str) -> str:
    return f"FIVETYPE_{service.upper()}_"


def configmap(objects: list[Obj], service: str) -> dict[str, str]:
    data: dict[str, str] = named(objects, "ConfigMap", part(service))["data"]
    return data


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_as_pre_install_and_pre_upgrade_jobs(
    rendered: dict[str, list[Obj]], service: str
) -> None:
    objects = rendered["defaults"]
    job = named(objects, "Job", part(f"migrate-{service}"))
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    assert "serviceAccountName" not in spec  # the release's accounts do not exist yet
    (container,) = spec["containers"]
    assert container["command"] == ["fivetype", "migrate", service]
    env = {e["name"]: e for e in container["env"]}
    assert env[f"{prefix(service)}DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "fivetype-database",
        "key": f"{service}-url",
    }
    # The job reads the same settings the pods run with, so a refused one stops the upgrade.
    inline = {name: e["value"] for name, e in env.items() if "value" in e}
    assert inline == configmap(objects, service)
    assert inline[f"{prefix(service)}MIGRATE_ON_START"] == "false"


def test_without_migration_jobs_the_pods_migrate_at_start() -> None:
    objects = render({"migrations": {"enabled": False}})
    assert not of_kind(objects, "Job")
    for service in SERVICES:
        assert configmap(objects, service)[f"{prefix(service)}MIGRATE_ON_START"] == "true"


def test_failed_migration_jobs_can_be_kept_for_inspection() -> None:
    objects = render({"migrations": {"deleteOnSuccess": False}})
    for job in of_kind(objects, "Job"):
        assert (
            job["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == "before-hook-creation"
        )


def test_helm_test_pod_checks_every_service_readiness(rendered: dict[str, list[Obj]]) -> None:
    (pod,) = [o for o in rendered["defaults"] if hook(o) == "test"]
    urls = pod["spec"]["containers"][0]["command"][3:]
    assert urls == [f"http://{part(s)}:80/readyz" for s in sorted(SERVICES)]
    assert not [o for o in render({"tests": {"enabled": False}}) if hook(o) == "test"]
    hooks = {hook(o) for o in rendered["defaults"]}
    assert hooks == {None, "test", "pre-install,pre-upgrade"}


# --- checksums ----------------------------------------------------------------------------


def checksums(objects: list[Obj]) -> dict[str, str]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        for o in of_kind(objects, "Deployment") + of_kind(objects, "StatefulSet")
    }


def test_a_changed_setting_rolls_only_the_pods_that_read_it() -> None:
    before = checksums(render())
    after = checksums(render({"services": {"scoring": {"settings": {"LOG_LEVEL": "DEBUG"}}}}))
    assert {name for name in before if before[name] != after[name]} == {part("scoring")}
    after_nats = checksums(render({"nats": {"jetstream": {"syncAlways": True}}}))
    assert {name for name in before if before[name] != after_nats[name]} == {NATS}
    everywhere = checksums(render({"serviceDefaults": {"shutdownGraceSeconds": 25}}))
    assert {name for name in before if before[name] != everywhere[name]} == {
        part(s) for s in SERVICES
    }


# --- settings and switches ----------------------------------------------------------------


def test_service_settings_merge_name_by_name_and_render_as_the_services_read_them() -> None:
    values = {
        "serviceDefaults": {"settings": {"LOG_LEVEL": "WARNING", "OUTBOX_BATCH_SIZE": 1000000}},
        "services": {
            "measures": {"settings": {"LOG_LEVEL": "DEBUG", "REMINDER_OFFSETS_DAYS": [7, 1]}},
            "notifications": {"settings": {"WEBHOOK_ALLOW_PRIVATE_TARGETS": False}},
        },
    }
    objects = render(values)
    measures, notifications = configmap(objects, "measures"), configmap(objects, "notifications")
    assert measures["FIVETYPE_MEASURES_LOG_LEVEL"] == "DEBUG"
    assert measures["FIVETYPE_MEASURES_REMINDER_OFFSETS_DAYS"] == "[7,1]"
    assert measures["FIVETYPE_MEASURES_OUTBOX_BATCH_SIZE"] == "1000000"  # never 1e+06
    assert notifications["FIVETYPE_NOTIFICATIONS_LOG_LEVEL"] == "WARNING"
    assert notifications["FIVETYPE_NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "false"


def test_replicas_autoscaling_and_disruption_budgets() -> None:
    objects = render(
        {
            "serviceDefaults": {"replicaCount": 3},
            "services": {
                "measures": {"autoscaling": {"enabled": True, "maxReplicas": 9}},
                "scoring": {"podDisruptionBudget": {"enabled": False}},
                "inspections": {"podDisruptionBudget": {"enabled": True, "minAvailable": "50%"}},
            },
        }
    )
    assert "replicas" not in deployment(objects, "measures")["spec"]  # the HPA owns it
    assert deployment(objects, "notifications")["spec"]["replicas"] == 3
    (hpa,) = of_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == part("measures")
    # The service's own keys merge into serviceDefaults.autoscaling: minReplicas stays 2.
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 9)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 75
    budgets = {o["metadata"]["name"]: o["spec"] for o in of_kind(objects, "PodDisruptionBudget")}
    assert part("scoring") not in budgets
    assert budgets[part("inspections")]["minAvailable"] == "50%"
    assert budgets[part("measures")]["maxUnavailable"] == 1


KINDS_BY_SWITCH: dict[str, tuple[dict[str, Any], dict[str, Any], set[str]]] = {
    "nats.enabled": ({"nats": {"enabled": True}}, EXTERNAL_URL, {"StatefulSet"}),
    "serviceAccount.create": (
        {},
        {"serviceAccount": {"create": False}},
        {"ServiceAccount"},
    ),
    "autoscaling": (
        {"serviceDefaults": {"autoscaling": {"enabled": True}}},
        {},
        {"HorizontalPodAutoscaler"},
    ),
    "podDisruptionBudget": (
        {},
        {
            "serviceDefaults": {"podDisruptionBudget": {"enabled": False}},
            "nats": {"enabled": False},
            "externalNats": {"url": "nats://nats:4222"},
        },
        {"PodDisruptionBudget"},
    ),
    "networkPolicy": ({}, {"networkPolicy": {"enabled": False}}, {"NetworkPolicy"}),
    "serviceMonitor": (
        {"metrics": {"serviceMonitor": {"enabled": True}}},
        {},
        {"ServiceMonitor"},
    ),
    "prometheusRule": (
        {"metrics": {"prometheusRule": {"enabled": True}}},
        {},
        {"PrometheusRule"},
    ),
    "migrations": ({}, {"migrations": {"enabled": False}}, {"Job"}),
    "tests": ({}, {"tests": {"enabled": False}}, {"Pod"}),
}


@pytest.mark.parametrize("switch", sorted(KINDS_BY_SWITCH))
def test_each_switch_adds_and_removes_its_objects(switch: str) -> None:
    on, off, kinds = KINDS_BY_SWITCH[switch]
    kinds_on = {o["kind"] for o in render(on)}
    kinds_off = {o["kind"] for o in render(off)}
    assert kinds <= kinds_on
    assert not kinds & kinds_off


def test_without_service_accounts_pods_run_as_the_named_one() -> None:
    objects = render({"serviceAccount": {"create": False, "name": "fivetype-runner"}})
    for _owner, pod in pod_templates(objects):
        if pod["spec"]["containers"][0]["command"][:2] == ["fivetype", "serve"]:
            assert pod["spec"]["serviceAccountName"] == "fivetype-runner"
    for job in of_kind(objects, "Job"):
        assert job["spec"]["template"]["spec"]["serviceAccountName"] == "fivetype-runner"


def test_closed_network_policy_admits_only_labelled_clients_and_listed_peers(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["all-on"]
    api, metrics = named(objects, "NetworkPolicy", part("services"))["spec"]["ingress"]
    peers = api["from"]
    assert peers[0] == {"podSelector": {"matchLabels": {f"{RELEASE}-fivetype-client": "true"}}}
    assert peers[1:] == ALL_ON["networkPolicy"]["extraIngress"]
    assert metrics["from"] == ALL_ON["networkPolicy"]["monitoringFrom"]
    test_pod = next(o for o in objects if hook(o) == "test")
    assert selects(peers[0]["podSelector"], test_pod["metadata"]["labels"])
    open_api, open_metrics = named(rendered["defaults"], "NetworkPolicy", part("services"))["spec"][
        "ingress"
    ]
    assert "from" not in open_api and "from" not in open_metrics


# --- NATS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant", ["defaults", "all-on", "example-values-small", "example-values-production"]
)
def test_bundled_nats_configuration_is_accepted_by_nats_server(
    rendered: dict[str, list[Obj]], variant: str, tmp_path: Path
) -> None:
    # The pod's layout: the config in /etc/nats, the generated users in /etc/nats-auth.
    conf = tmp_path / "nats" / "nats.conf"
    conf.parent.mkdir()
    conf.write_text(nats_conf(rendered[variant]))
    natsauth.write_authorization(tmp_path / "nats-auth", ["360102"])
    check = subprocess.run(
        [nats_server(), "-t", "-c", str(conf)],
        env={"SERVER_NAME": f"{NATS}-0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr


def test_three_nats_servers_form_a_cluster_and_streams_get_three_replicas(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["all-on"]
    statefulset = named(objects, "StatefulSet", NATS)
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    conf = nats_conf(objects)
    for i in range(3):
        assert f"nats://{NATS}-{i}.{NATS}-headless:6222" in conf
    assert "sync_interval: always" in conf
    assert "include ../nats-auth/auth.conf" in conf
    headless = named(objects, "Service", f"{NATS}-headless")
    assert headless["spec"]["publishNotReadyAddresses"] is True
    for service in SERVICES:
        assert configmap(objects, service)[f"{prefix(service)}STREAM_REPLICAS"] == "3"
    containers = {c["name"] for c in statefulset["spec"]["template"]["spec"]["containers"]}
    assert containers == {"nats", "metrics"}
    single = nats_conf(rendered["defaults"])
    assert "cluster {" not in single and "sync_interval" not in single and "include" not in single
    assert f"max_payload: {natsauth.MAX_PAYLOAD}" in single


def test_production_values_replicate_streams_three_times_and_fsync_every_write(
    rendered: dict[str, list[Obj]],
) -> None:
    """The durability docs/reliability.md prescribes for production."""
    objects = rendered["example-values-production"]
    assert "sync_interval: always" in nats_conf(objects)
    assert configmap(objects, "measures")[f"{prefix('measures')}STREAM_REPLICAS"] == "3"


def nkey_mount(objects: list[Obj], service: str) -> tuple[Obj, Obj]:
    """The Secret volume a service's pod mounts its NATS seed from, and its container."""
    spec = deployment(objects, service)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    (volume,) = [v for v in spec["volumes"] if "secret" in v]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[f"{prefix(service)}NATS_NKEY_FILE"] == f"{mount['mountPath']}/nkey"
    return volume["secret"], container


@pytest.mark.parametrize("values", [SECRET, EXTERNAL_SECRET], ids=["bundled", "external"])
def test_each_service_mounts_only_its_own_nats_seed(values: dict[str, Any]) -> None:
    objects = render(values)
    secret = values["nats"].get("auth", {}).get("existingSecret") or "nats-nkeys"
    for service in SERVICES:
        source, _ = nkey_mount(objects, service)
        assert source["secretName"] == secret
        assert source["items"] == [{"key": f"{service}.nk", "path": "nkey"}]
    if values is SECRET:
        spec = named(objects, "StatefulSet", NATS)["spec"]["template"]["spec"]
        (auth,) = [v for v in spec["volumes"] if "secret" in v]
        # The server gets the public keys only, beside the config that includes them.
        assert auth["secret"]["items"] == [{"key": "auth.conf", "path": "auth.conf"}]
        (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "auth"]
        assert mount["mountPath"] == "/etc/nats-auth"
        for service in SERVICES:
            assert configmap(objects, service)[f"{prefix(service)}NATS_URL"] == (
                f"nats://{NATS}:4222"
            )


def test_without_nkeys_no_seed_is_mounted(rendered: dict[str, list[Obj]]) -> None:
    for service in SERVICES:
        spec = deployment(rendered["defaults"], service)["spec"]["template"]["spec"]
        assert not [v for v in spec["volumes"] if "secret" in v]


def test_external_nats_by_url_or_by_secret(rendered: dict[str, list[Obj]]) -> None:
    by_url, by_secret = rendered["external-url"], rendered["external-secret"]
    assert not of_kind(by_url, "StatefulSet") and not of_kind(by_secret, "StatefulSet")
    for service in SERVICES:
        data = configmap(by_url, service)
        assert data[f"{prefix(service)}NATS_URL"] == "nats://nats.messaging:4222"
        assert data[f"{prefix(service)}STREAM_REPLICAS"] == "3"
        (container,) = deployment(by_secret, service)["spec"]["template"]["spec"]["containers"]
        url = next(e for e in container["env"] if e["name"] == f"{prefix(service)}NATS_URL")
        assert url["valueFrom"]["secretKeyRef"] == {"name": "nats-url", "key": "url"}


# --- monitoring ---------------------------------------------------------------------------


def test_prometheus_rule_carries_every_rule_file(rendered: dict[str, list[Obj]]) -> None:
    (rule,) = of_kind(rendered["all-on"], "PrometheusRule")
    files = sorted((CHART / "rules").glob("*.yaml"))
    expected = [g for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    assert rule["spec"]["groups"] == expected
    alerts = {r["alert"]: r["expr"] for g in expected for r in g["rules"]}
    assert "up{" in alerts["FivetypeServiceDown"] and "== 0" in alerts["FivetypeServiceDown"]
    assert "fivetype_dead_letter_messages" in alerts["FivetypeDeadLettersPresent"]
    assert rule["metadata"]["labels"]["release"] == "prometheus"


def test_runbook_urls_point_into_the_configured_page() -> None:
    page = "https://ops.example.gov.cn/fivetype/deploy.html"
    values = {"metrics": {"prometheusRule": {"enabled": True, "runbookUrl": page}}}
    (rule,) = of_kind(render(values), "PrometheusRule")
    urls = [r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert urls and all(u == f"{page}#runbook-{u.rsplit('-', 1)[1]}" for u in urls)
    assert f"{page}#runbook-fivetypetaskstale" in urls


def test_metrics_are_scraped_on_their_own_port(rendered: dict[str, list[Obj]]) -> None:
    """The API port never serves /metrics; the ServiceMonitor and NetworkPolicy use `metrics`."""
    objects = rendered["all-on"]
    (monitor,) = of_kind(objects, "ServiceMonitor")
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    for service in SERVICES:
        data = configmap(objects, service)
        port = int(data[f"{prefix(service)}HTTP_PORT"]) + 1000
        assert data[f"{prefix(service)}METRICS_PORT"] == str(port)
        (container,) = deployment(objects, service)["spec"]["template"]["spec"]["containers"]
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
    policy = next(
        p for p in of_kind(objects, "NetworkPolicy") if "nats" not in p["metadata"]["name"]
    )
    assert [r["ports"][0]["port"] for r in policy["spec"]["ingress"]] == ["http", "metrics"]


def test_service_monitor_names_jobs_after_the_services(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["all-on"]
    (monitor,) = of_kind(objects, "ServiceMonitor")
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    jobs = {
        s["metadata"]["labels"]["app.kubernetes.io/name"]
        for s in of_kind(objects, "Service")
        if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    }
    assert jobs == {f"fivetype-{s}" for s in SERVICES} | {"fivetype-nats"}
    rule_jobs = "fivetype-(measures|inspections|scoring|notifications)"
    assert rule_jobs in (CHART / "rules" / "availability.yaml").read_text()


def test_dashboards_dropped_into_the_chart_become_sidecar_config_maps(tmp_path: Path) -> None:
    chart = tmp_path / "fivetype"
    shutil.copytree(CHART, chart)
    for shipped in (chart / "dashboards").glob("*.json"):
        shipped.unlink()
    dashboard = {"title": "fivetype operations", "uid": "fivetype-ops", "panels": []}
    (chart / "dashboards" / "Operations.json").write_text(json.dumps(dashboard))
    values = {"metrics": {"dashboards": {"enabled": True, "namespace": "monitoring"}}}
    (config_map,) = [
        o for o in render(values, chart_dir=chart) if "dashboard" in o["metadata"]["name"]
    ]
    assert config_map["metadata"]["name"] == part("dashboard-operations")
    assert config_map["metadata"]["namespace"] == "monitoring"
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["Operations.json"]) == dashboard
    assert not [o for o in render({}, chart_dir=chart) if "dashboard" in o["metadata"]["name"]]


def test_shipped_dashboards_are_json_models() -> None:
    for path in (CHART / "dashboards").glob("*.json"):
        model = json.loads(path.read_text())
        assert model.get("title") and model.get("uid"), path.name


def test_notes_tell_how_to_check_the_release() -> None:
    text = notes()
    assert f"helm test {RELEASE} -n {NAMESPACE}" in text
    assert "sync" in text  # a single NATS server without fsync is called out
    assert "sync" not in notes({"nats": {"jetstream": {"syncAlways": True}}}).split("Databases")[0]


def test_rendering_is_deterministic() -> None:
    assert render_files(ALL_ON) == render_files(ALL_ON)
