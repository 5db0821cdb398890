# METADATA
# title: Guaranteed QoS class
# description: >-
#   In a production configuration, every container (init containers included) should set CPU and memory
#   requests equal to limits, so the pod gets the Guaranteed QoS class and is the last to be evicted or
#   throttled. A missing request next to a limit counts as equal, since Kubernetes copies the limit.
# custom:
#   id: qos-guaranteed
#   category: performance
#   severity: low
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Give every container CPU and memory limits and set its requests to the same values (or leave the requests out).
package kubepolicy.performance.qos_guaranteed

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.quantity

violation contains {
	"msg": concat("", [k8s.workload, " does not get the Guaranteed QoS class: CPU and memory requests must equal limits in ", concat(", ", sort(offenders))]),
	"path": k8s.pod_spec_pointer,
} if {
	config.production
	count(offenders) > 0
}

# Containers that keep the pod out of the Guaranteed class (ephemeral ones have no resources and do not count).
offenders contains k8s.describe(entry) if {
	some entry in k8s.resourced_containers
	some resource in ["cpu", "memory"]
	not request_equals_limit(entry.container, resource)
}

request_equals_limit(container, resource) if {
	object.get(container, ["resources", "limits", resource], null) != null
	object.get(container, ["resources", "requests", resource], null) == null
}

request_equals_limit(container, resource) if {
	quantity.parse(container.resources.requests[resource]) == quantity.parse(container.resources.limits[resource])
}
