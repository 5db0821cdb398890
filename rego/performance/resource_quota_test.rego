package kubepolicy.performance.resource_quota_test

import data.kubepolicy.performance.resource_quota

deployment(metadata, context) := {
	"object": {
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": metadata,
		"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "web"}]}}},
	},
	"context": context,
}

quota(namespace) := {
	"apiVersion": "v1",
	"kind": "ResourceQuota",
	"metadata": {"name": "compute", "namespace": namespace},
	"spec": {"hard": {"requests.cpu": "10", "limits.memory": "20Gi"}},
}

shop := {"name": "api", "namespace": "shop"}

test_fires_when_the_namespace_has_no_quota if {
	findings := resource_quota.violation with input as deployment(shop, {"resourceQuotas": []})
	findings == {{"msg": `namespace "shop" of Deployment "api" has no ResourceQuota`, "path": "/metadata/namespace"}}
	count(resource_quota.not_evaluated) == 0 with input as deployment(shop, {"resourceQuotas": []})
}

test_fires_when_only_other_namespaces_have_quotas if {
	count(resource_quota.violation) == 1 with input as deployment(shop, {"resourceQuotas": [quota("other")]})
}

test_fires_once_for_a_workload_in_the_default_namespace if {
	findings := resource_quota.violation with input as deployment({"name": "api"}, {"resourceQuotas": []})
	findings == {{"msg": `namespace "default" of Deployment "api" has no ResourceQuota`, "path": "/metadata"}}
}

test_quiet_when_the_namespace_has_a_quota if {
	count(resource_quota.violation) == 0 with input as deployment(shop, {"resourceQuotas": [quota("shop")]})
	count(resource_quota.violation) == 0 with input as deployment(shop, {"resourceQuotas": [{"metadata": {"name": "q"}, "spec": {}}]})
}

test_quiet_for_non_workloads if {
	service := {"object": {"kind": "Service", "metadata": {"name": "api", "namespace": "shop"}}, "context": {}}
	count(resource_quota.violation) == 0 with input as service
	count(resource_quota.not_evaluated) == 0 with input as service
}

test_not_evaluated_without_quotas if {
	count(resource_quota.violation) == 0 with input as deployment(shop, {"podDisruptionBudgets": []})
	resource_quota.not_evaluated == {{"msg": `the ResourceQuotas of namespace "shop" are not known, so whether Deployment "api" is under a quota cannot be checked`}} with input as deployment(shop, {})
}
