"""Renders charts/lakegate with Helm's own engine (helm-python-sdk), lints it, validates every
manifest against the Kubernetes schemas (kubernetes-validate) and writes the rendered lakegate
TOML of each values set, so tests/chart.rs can parse it with lakegate's own config loader.

    chart_check.py --chart DIR --out DIR

Exits non-zero, naming the failed check.
"""

import argparse
import json
import os
import sys

import helm_python
import kubernetes_validate
import yaml

KUBERNETES = "1.30.0"

# The default values, and the production-like values file in the chart's ci/ folder: HPA, S3
# with a credentials Secret, a REST catalog, users-mode auth and TLS on the PostgreSQL port.
VALUE_FILES = {"default": None, "s3-rest-hpa": "ci/s3-rest-hpa-values.yaml"}


def fail(what):
    print(f"FAILED: {what}", file=sys.stderr)
    sys.exit(1)


def check(condition, what):
    if not condition:
        fail(what)
    print(f"ok: {what}")


def manifests(rendered):
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                yield path, doc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chart", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    chart = helm_python.Chart.load(args.chart)
    for name, values_file in VALUE_FILES.items():
        values = {}
        if values_file:
            with open(os.path.join(args.chart, values_file)) as f:
                values = yaml.safe_load(f)
        report = helm_python.lint(args.chart, values, strict=False, kube_version=f"v{KUBERNETES}")
        errors = [m for m in report.get("messages", []) if m.get("severity", 0) >= 3]
        errors += report.get("errors", [])
        check(not errors, f"{name}: helm lint reports no errors ({errors})")

        rendered = chart.render(values=values, name="lg", namespace="data", is_install=True)
        kinds = {}
        for path, doc in manifests(rendered):
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
            except kubernetes_validate.ValidationError as e:
                fail(f"{name}: {path} ({doc.get('kind')}) is not valid Kubernetes: {e.message}")
            kinds.setdefault(doc["kind"], []).append(doc)
        print(f"ok: {name}: every manifest validates ({sorted(kinds)})")

        for kind in ["ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "ServiceAccount"]:
            check(kind in kinds, f"{name}: renders a {kind}")
        check(
            ("HorizontalPodAutoscaler" in kinds) == bool(values.get("executor")),
            f"{name}: an HPA exactly when autoscaling is on",
        )
        for deployment in kinds["Deployment"]:
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            check(pod["securityContext"]["runAsNonRoot"], f"{name}: {deployment['metadata']['name']} runs as non-root")
            check(
                container["securityContext"]["readOnlyRootFilesystem"],
                f"{name}: {deployment['metadata']['name']} has a read-only root filesystem",
            )
            check("livenessProbe" in container and "readinessProbe" in container,
                  f"{name}: {deployment['metadata']['name']} has probes")
        coordinator = next(d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-coordinator"))
        probe = coordinator["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        check(probe["httpGet"]["path"] == "/readyz", f"{name}: the coordinator is ready on /readyz")
        annotations = coordinator["spec"]["template"]["metadata"]["annotations"]
        check(annotations.get("prometheus.io/scrape") == "true", f"{name}: scrape annotations on")
        if values.get("credentials"):
            executor = next(d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-executor"))
            env_from = executor["spec"]["template"]["spec"]["containers"][0]["envFrom"]
            check(env_from == [{"secretRef": {"name": "lakegate-s3"}}], f"{name}: credentials come from the Secret")
            text = yaml.safe_dump(kinds)
            check("secret_access_key" not in text.lower(), f"{name}: no secret is inlined")

        config_maps = {m["metadata"]["name"]: m for m in kinds["ConfigMap"]}
        toml = config_maps["lg-lakegate"]["data"]["lakegate.toml"]
        dashboard = config_maps.get("lg-lakegate-dashboard")
        wanted = values.get("metrics", {}).get("grafanaDashboard", {}).get("enabled", False)
        check((dashboard is not None) == wanted, f"{name}: a dashboard ConfigMap exactly when asked for")
        if dashboard:
            panels = json.loads(dashboard["data"]["lakegate.json"])["panels"]
            check(dashboard["metadata"]["labels"].get("grafana_dashboard") == "1" and panels,
                  f"{name}: the dashboard is valid JSON with panels, labelled for Grafana's sidecar")
        tls_secret = values.get("coordinator", {}).get("postgresTlsSecret")
        pod = coordinator["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
        if tls_secret:
            check(volumes["postgres-tls"]["secret"]["secretName"] == tls_secret
                  and mounts["postgres-tls"]["mountPath"] == "/etc/lakegate-postgres-tls"
                  and 'postgres_tls_cert = "/etc/lakegate-postgres-tls/tls.crt"' in toml
                  and 'postgres_tls_key = "/etc/lakegate-postgres-tls/tls.key"' in toml,
                  f"{name}: the PostgreSQL TLS Secret is mounted on the coordinator and configured")
            executor = next(d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-executor"))
            executor_volumes = executor["spec"]["template"]["spec"]["volumes"]
            check(all(v["name"] != "postgres-tls" for v in executor_volumes),
                  f"{name}: executors do not get the TLS key")
        else:
            check("postgres-tls" not in volumes and "postgres_tls" not in toml,
                  f"{name}: no PostgreSQL TLS without a Secret")
        tls = values.get("coordinator", {}).get("tlsSecret")
        executor = next(d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-executor"))
        executor_pod = executor["spec"]["template"]["spec"]
        if tls:
            served = pod["containers"][0]
            probe_schemes = {
                served["readinessProbe"]["httpGet"].get("scheme"),
                served["livenessProbe"]["httpGet"].get("scheme"),
            }
            ca_volume = next(v for v in executor_pod["volumes"] if v["name"] == "tls-ca")
            check(volumes["tls"]["secret"]["secretName"] == tls
                  and 'tls_cert = "/etc/lakegate-tls/tls.crt"' in toml
                  and 'tls_ca = "/etc/lakegate-tls-ca/ca.crt"' in toml
                  and 'coordinator_url = "https://' in toml
                  and probe_schemes == {"HTTPS"},
                  f"{name}: TLS on every listener, executors reach the coordinator over https")
            check(ca_volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}],
                  f"{name}: executors get the CA only, never the coordinator's key")
        else:
            check("tls" not in volumes and "tls_cert" not in toml.replace("postgres_tls_cert", "")
                  and 'coordinator_url = "http://' in toml,
                  f"{name}: no TLS without a Secret")
        access = values.get("auth", {}).get("accessControl", {}).get("configMap")
        if access:
            check(volumes["access-control"]["configMap"]["name"] == access
                  and mounts["access-control"]["mountPath"] == "/etc/lakegate-access"
                  and 'access_control_file = "/etc/lakegate-access/rules.json"' in toml
                  and 'groups_file = "/etc/lakegate-access/groups.txt"' in toml,
                  f"{name}: the access control ConfigMap is mounted on the coordinator and configured")
        else:
            check("access-control" not in volumes and "access_control_file" not in toml,
                  f"{name}: no access control without a ConfigMap")
        with open(os.path.join(args.out, f"{name}.toml"), "w") as f:
            f.write(toml)
        notes = rendered.get("lakegate/templates/NOTES.txt", "")
        check("grpc://" in notes, f"{name}: NOTES.txt tells how to connect")


if __name__ == "__main__":
    main()
