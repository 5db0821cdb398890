package kubepolicy.operations.monitoring_annotations_test

import data.kubepolicy.operations.monitoring_annotations

deployment(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {
		"selector": {"matchLabels": {"app": "api"}},
		"template": {
			"metadata": {"labels": {"app": "api", "tier": "backend"}, "annotations": annotations},
			"spec": {"containers": [{"name": "api", "image": "acme/api:1.0"}]},
		},
	},
}

service := {
	"kind": "Service",
	"metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api", "metrics": "yes"}},
	"spec": {"selector": {"app": "api"}},
}

monitor(namespace, namespace_selector) := {
	"apiVersion": "monitoring.coreos.com/v1",
	"kind": "ServiceMonitor",
	"metadata": {"name": "api", "namespace": namespace},
	"spec": {
		"selector": {"matchLabels": {"metrics": "yes"}},
		"namespaceSelector": namespace_selector,
		"endpoints": [{"port": "metrics"}],
	},
}

test_fires_once_without_annotation_or_service_monitor if {
	findings := monitoring_annotations.violation with input as {"object": deployment({"team": "shop"}), "context": {"services": [service], "serviceMonitors": []}}
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "api" has no prometheus.io/scrape annotation on its pod template and no ServiceMonitor selects it`
	f.path == "/spec/template/metadata/annotations"
}

test_fires_when_no_service_monitor_exists if {
	input_doc := {"object": deployment({}), "context": {"serviceMonitors": []}}
	[f] := [f | some f in monitoring_annotations.violation] with input as input_doc
	f.path == "/spec/template/metadata/annotations"
	count(monitoring_annotations.not_evaluated) == 0 with input as input_doc
}

test_not_evaluated_when_service_monitors_are_unknown if {
	count(monitoring_annotations.violation) == 0 with input as {"object": deployment({}), "context": {}}
	[n] := [n | some n in monitoring_annotations.not_evaluated] with input as {"object": deployment({}), "context": {}}
	contains(n.msg, "ServiceMonitors of namespace")
}

test_fires_when_monitor_selects_no_service_of_the_pods if {
	other_service := object.union(service, {"spec": {"selector": {"app": "worker"}}})
	selectorless := {"kind": "Service", "metadata": {"name": "external", "labels": {"metrics": "yes"}}, "spec": {}}
	count(monitoring_annotations.violation) == 1 with input as {"object": deployment({}), "context": {
		"services": [other_service, selectorless],
		"serviceMonitors": [monitor("shop", {})],
	}}
}

test_fires_when_monitor_watches_other_namespaces if {
	count(monitoring_annotations.violation) == 1 with input as {"object": deployment({}), "context": {
		"services": [service],
		"serviceMonitors": [monitor("monitoring", {}), monitor("monitoring", {"matchNames": ["billing"]})],
	}}
}

test_quiet_with_scrape_annotation if {
	count(monitoring_annotations.violation) == 0 with input as {"object": deployment({"prometheus.io/scrape": "true"}), "context": {}}
}

test_quiet_when_service_monitor_in_same_namespace_selects_it if {
	count(monitoring_annotations.violation) == 0 with input as {"object": deployment({}), "context": {
		"services": [service],
		"serviceMonitors": [monitor("shop", {})],
	}}
}

test_quiet_when_service_monitor_elsewhere_names_the_namespace if {
	count(monitoring_annotations.violation) == 0 with input as {"object": deployment({}), "context": {
		"services": [service],
		"serviceMonitors": [monitor("monitoring", {"matchNames": ["default", "shop"]})],
	}}
	count(monitoring_annotations.violation) == 0 with input as {"object": deployment({}), "context": {
		"services": [service],
		"serviceMonitors": [monitor("monitoring", {"any": true})],
	}}
}

test_quiet_for_batch_workloads if {
	count(monitoring_annotations.violation) == 0 with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}},
	}}
}

test_not_evaluated_when_monitors_exist_but_services_unknown if {
	input_doc := {"object": deployment({}), "context": {"serviceMonitors": [monitor("shop", {})]}}
	count(monitoring_annotations.violation) == 0 with input as input_doc
	[n] := [n | some n in monitoring_annotations.not_evaluated] with input as input_doc
	n.msg == `Deployment "api": ServiceMonitors exist in namespace shop but its Services are not known, so whether one selects the pods cannot be told`
}
