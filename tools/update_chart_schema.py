"""Rewrite the settings an admin may set in deploy/k8s/values.schema.json from the services'
settings classes (`make chart-schema`); tests/deploy fails while the two disagree."""

import json

from services.runtime.settings import ServiceSettings
from tests.deploy.chart import CHART
from tests.deploy.test_chart_settings import NOT_FOR_DEPLOYMENTS, OWNED_BY_CHART, SETTINGS
from tests.deploy.test_chart_settings import setting_names as names_of


def main() -> None:
    path = CHART / "values.schema.json"
    schema = json.loads(path.read_text())
    reserved = OWNED_BY_CHART | NOT_FOR_DEPLOYMENTS
    properties = schema["properties"]
    targets = {("serviceDefaults",): names_of(ServiceSettings)}
    targets |= {("services", name): names_of(cls) for name, cls in SETTINGS.items()}
    for keys, names in targets.items():
        node = properties
        for key in keys:
            node = node[key]["properties"]
        node["settings"]["propertyNames"]["enum"] = sorted(names - reserved)
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
