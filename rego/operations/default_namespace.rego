# METADATA
# title: Default namespace
# description: >-
#   Workloads belong in a namespace of their own: the default namespace mixes unrelated applications under
#   the same access rules, quotas and network policies.
# custom:
#   id: default-namespace
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["CC6.1"]
#     CIS: ["5.7.4"]
#     NSA-CISA: ["Network separation and hardening: namespaces"]
#   remediation: Set metadata.namespace to a dedicated namespace for the application.
package kubepolicy.operations.default_namespace

import data.lib.kubernetes as k8s

# An empty namespace is no namespace: Kubernetes fills in the one applied to.
namespace_set if {
	is_string(k8s.obj.metadata.namespace)
	k8s.obj.metadata.namespace != ""
}

# A manifest without a namespace lands wherever it is applied; say so rather than claim it is in default.
violation contains {
	"msg": concat("", [k8s.workload, " sets no metadata.namespace, so it is created in the default namespace unless applied to another one"]),
	"path": "/metadata",
} if {
	k8s.is_workload
	not namespace_set
}

violation contains {
	"msg": concat("", [k8s.workload, " is in the default namespace"]),
	"path": "/metadata/namespace",
} if {
	k8s.is_workload
	k8s.obj.metadata.namespace == "default"
}
