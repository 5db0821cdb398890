package kubepolicy.operations.default_namespace_test

import data.kubepolicy.operations.default_namespace

pod(metadata) := {"object": {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": object.union({"name": "debug"}, metadata),
	"spec": {"containers": [{"name": "sh", "image": "busybox:1.36"}]},
}}

test_fires_once_in_default_namespace if {
	findings := default_namespace.violation with input as pod({"namespace": "default"})
	count(findings) == 1
	some f in findings
	f.msg == `Pod "debug" is in the default namespace`
	f.path == "/metadata/namespace"
}

test_fires_once_without_namespace_and_says_so if {
	findings := default_namespace.violation with input as pod({})
	count(findings) == 1
	some f in findings
	f.msg == `Pod "debug" sets no metadata.namespace, so it is created in the default namespace unless applied to another one`
	f.path == "/metadata"
	count(default_namespace.violation) == 1 with input as pod({"namespace": ""})
}

test_quiet_in_own_namespace if {
	count(default_namespace.violation) == 0 with input as pod({"namespace": "shop"})
}

test_quiet_for_non_workloads if {
	count(default_namespace.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}}
}
