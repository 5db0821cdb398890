# METADATA
# title: NetworkPolicy
# description: >-
#   Pods that no ingress NetworkPolicy selects accept traffic from every pod of the cluster;
#   a policy per workload (or a namespace default-deny) limits lateral movement.
# custom:
#   id: network-policy
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.6"]
#     HIPAA: ["164.312(e)(1)"]
#     PCI-DSS: ["1.3.1", "1.3.2"]
#     ISO27001: ["A.8.20", "A.8.22"]
#     CIS: ["5.3.2"]
#     NSA-CISA: ["Network separation and hardening: network policies"]
#   remediation: Add a NetworkPolicy whose podSelector matches the workload's pod labels and allows only the ingress it needs (or a default-deny policy for the namespace).
package kubepolicy.security.network_policy

import data.lib.kubernetes as k8s
import data.lib.selectors
import data.lib.text

not_evaluated contains {"msg": concat("", ["the NetworkPolicies of namespace ", text.quote(k8s.namespace), " are not known, so whether any selects the pods of ", k8s.workload, " cannot be told"])} if {
	k8s.is_workload
	not k8s.known("networkPolicies")
}

violation contains {
	"msg": concat("", ["no NetworkPolicy with Ingress rules in namespace ", text.quote(k8s.namespace), " selects the pods of ", k8s.workload]),
	"path": labels_pointer,
} if {
	k8s.is_workload
	k8s.known("networkPolicies")
	not selected
}

selected if {
	some policy in k8s.context_list("networkPolicies")
	same_namespace(policy)
	governs_ingress(policy)
	selectors.matches(object.get(policy, ["spec", "podSelector"], {}), k8s.pod_labels)
}

# Policies without a namespace (offline manifests) are taken to live in the workload's.
same_namespace(policy) if object.get(policy, ["metadata", "namespace"], k8s.namespace) == k8s.namespace

# Without policyTypes, Kubernetes implies Ingress.
governs_ingress(policy) if count(object.get(policy, ["spec", "policyTypes"], [])) == 0

governs_ingress(policy) if "Ingress" in object.get(policy, ["spec", "policyTypes"], [])

# The pod labels the policies would select on, else the closest existing parent.
labels_pointer := concat("", [k8s.pod_metadata_pointer, "/labels"]) if {
	is_object(k8s.pod_metadata.labels)
} else := k8s.pod_metadata_pointer if {
	is_object(object.get(k8s.obj, split(trim_prefix(k8s.pod_metadata_pointer, "/"), "/"), null))
} else := trim_suffix(k8s.pod_metadata_pointer, "/metadata")
