# METADATA
# title: Monitoring configured
# description: >-
#   Long-running workloads are scraped for metrics, either through the prometheus.io/scrape pod annotation or
#   through a ServiceMonitor selecting a Service in front of the pods; an unmonitored workload fails silently.
# custom:
#   id: monitoring-annotations
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["A1.1", "CC7.2"]
#     ISO27001: ["A.8.16"]
#   remediation: Annotate the pod template with prometheus.io/scrape (and prometheus.io/port) or create a ServiceMonitor for a Service that selects the pods.
package kubepolicy.operations.monitoring_annotations

import data.lib.kubernetes as k8s
import data.lib.selectors
import data.lib.text

scrape_annotation := "prometheus.io/scrape"

applies if {
	k8s.is_workload
	not k8s.is_batch
	is_object(k8s.pod_spec)
	not has_scrape_annotation
}

# Present with any value: "false" is a deliberate decision not to scrape.
has_scrape_annotation if is_string(k8s.pod_annotations[scrape_annotation])

# ServiceMonitors that may pick up Services of the workload's namespace (prometheus-operator semantics:
# any, else matchNames, else the ServiceMonitor's own namespace). An absent serviceMonitors key means the
# CRD is not installed: none exist.
monitors contains monitor if {
	some monitor in k8s.context_list("serviceMonitors")
	watches_namespace(monitor)
}

watches_namespace(monitor) if object.get(monitor, ["spec", "namespaceSelector", "any"], false) == true

watches_namespace(monitor) if {
	some name in object.get(monitor, ["spec", "namespaceSelector", "matchNames"], [])
	name == k8s.namespace
}

watches_namespace(monitor) if {
	object.get(monitor, ["spec", "namespaceSelector", "any"], false) != true
	count(object.get(monitor, ["spec", "namespaceSelector", "matchNames"], [])) == 0
	object.get(monitor, ["metadata", "namespace"], k8s.namespace) == k8s.namespace
}

# Services in front of the pods. A Service without a selector selects no pods.
services contains service if {
	some service in k8s.context_list("services")
	object.get(service, ["metadata", "namespace"], k8s.namespace) == k8s.namespace
	selector := object.get(service, ["spec", "selector"], {})
	is_object(selector)
	count(selector) > 0
	selectors.map_matches(selector, k8s.pod_labels)
}

scraped if {
	some monitor in monitors
	some service in services
	selectors.matches(object.get(monitor, ["spec", "selector"], {}), object.get(service, ["metadata", "labels"], {}))
}

# Whether a ServiceMonitor selects the workload can be told without Services only when there is none.
# ServiceMonitors unknown (not readable): whether one selects the pods cannot be told. An empty list is
# known: offline "none given", or a cluster without the Prometheus Operator CRD.
decidable if {
	k8s.known("serviceMonitors")
	count(monitors) == 0
}

decidable if {
	k8s.known("serviceMonitors")
	k8s.known("services")
}

annotations_path := concat("", [k8s.pod_metadata_pointer, "/annotations"]) if is_object(k8s.pod_metadata.annotations)

else := k8s.pod_metadata_pointer

where := "pod" if k8s.kind == "Pod"

else := "pod template"

violation contains {
	"msg": concat("", [k8s.workload, " has no ", text.str(scrape_annotation), " annotation on its ", text.str(where), " and no ServiceMonitor selects it"]),
	"path": annotations_path,
} if {
	applies
	decidable
	not scraped
}

not_evaluated contains {"msg": concat("", [k8s.workload, ": ServiceMonitors exist in namespace ", k8s.namespace, " but its Services are not known, so whether one selects the pods cannot be told"])} if {
	applies
	k8s.known("serviceMonitors")
	not decidable
}

not_evaluated contains {"msg": concat("", [k8s.workload, ": the ServiceMonitors of namespace ", k8s.namespace, " are not known, so whether one selects the pods cannot be told"])} if {
	applies
	not k8s.known("serviceMonitors")
}
