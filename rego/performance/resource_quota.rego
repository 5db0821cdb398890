# METADATA
# title: ResourceQuota
# description: >-
#   The namespace of a workload should have a ResourceQuota, so one team or runaway deployment cannot claim
#   the capacity the other namespaces of the cluster need.
# custom:
#   id: resource-quota
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Create a ResourceQuota in the namespace that caps requests.cpu, requests.memory, limits.cpu and limits.memory.
package kubepolicy.performance.resource_quota

import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", ["namespace ", text.quote(k8s.namespace), " of ", k8s.workload, " has no ResourceQuota"]),
	"path": path,
} if {
	k8s.is_workload
	k8s.known("resourceQuotas")
	not has_quota
}

not_evaluated contains {"msg": concat("", ["the ResourceQuotas of namespace ", text.quote(k8s.namespace), " are not known, so whether ", k8s.workload, " is under a quota cannot be checked"])} if {
	k8s.is_workload
	not k8s.known("resourceQuotas")
}

has_quota if {
	some quota in k8s.context_list("resourceQuotas")
	object.get(quota, ["metadata", "namespace"], k8s.namespace) == k8s.namespace
}

path := "/metadata/namespace" if k8s.obj.metadata.namespace

else := "/metadata"
