package kubepolicy.security.network_policy_test

import data.kubepolicy.security.network_policy

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web", "tier": "frontend"}}, "spec": {"containers": [{"name": "a"}]}}},
}

policy(spec) := {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": "shop"}, "spec": spec}

test_fires_once_without_network_policies if {
	findings := network_policy.violation with input as {"object": deployment, "context": {"networkPolicies": []}}
	[f] := [f | some f in findings]
	f.path == "/spec/template/metadata/labels"
	f.msg == `no NetworkPolicy with Ingress rules in namespace "shop" selects the pods of Deployment "web"`
	object.keys(f) == {"msg", "path"}
	count(network_policy.not_evaluated) == 0 with input as {"object": deployment, "context": {"networkPolicies": []}}
}

test_fires_when_no_policy_selects_the_pods if {
	findings := network_policy.violation with input as {"object": deployment, "context": {"networkPolicies": [
		policy({"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}),
		policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}}),
	]}}
	count(findings) == 1
}

test_fires_when_the_policy_is_egress_only if {
	findings := network_policy.violation with input as {"object": deployment, "context": {"networkPolicies": [policy({"podSelector": {}, "policyTypes": ["Egress"]})]}}
	count(findings) == 1
}

test_fires_when_the_policy_is_in_another_namespace if {
	other := object.union(policy({"podSelector": {}}), {"metadata": {"namespace": "other"}})
	findings := network_policy.violation with input as {"object": deployment, "context": {"networkPolicies": [other]}}
	count(findings) == 1
}

test_fires_for_pod_without_labels if {
	pod := {"kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": [{"name": "c"}]}}
	findings := network_policy.violation with input as {"object": pod, "context": {"networkPolicies": [policy({"podSelector": {"matchLabels": {"app": "web"}}})]}}
	[f] := [f | some f in findings]
	f.path == "/metadata"
}

test_quiet_when_a_policy_selects_the_pods if {
	count(network_policy.violation) == 0 with input as {"object": deployment, "context": {"networkPolicies": [
		policy({"podSelector": {"matchLabels": {"app": "db"}}}),
		policy({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"]}),
	]}}
}

test_quiet_with_a_namespace_wide_policy if {
	count(network_policy.violation) == 0 with input as {"object": deployment, "context": {"networkPolicies": [policy({"podSelector": {}, "policyTypes": ["Ingress"]})]}}
}

test_quiet_with_a_policy_without_namespace_or_policy_types if {
	offline := {"kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}}}
	count(network_policy.violation) == 0 with input as {"object": deployment, "context": {"networkPolicies": [offline]}}
}

test_not_evaluated_without_network_policies if {
	count(network_policy.violation) == 0 with input as {"object": deployment, "context": {}}
	notes := network_policy.not_evaluated with input as {"object": deployment}
	notes == {{"msg": `the NetworkPolicies of namespace "shop" are not known, so whether any selects the pods of Deployment "web" cannot be told`}}
}

test_quiet_for_non_workloads if {
	count(network_policy.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}}, "context": {"networkPolicies": []}}
	count(network_policy.not_evaluated) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}}, "context": {}}
}
