package kubepolicy.performance.liveness_probe_test

import data.kubepolicy.performance.liveness_probe

workload(kind, pod_spec) := {"object": {
	"kind": kind,
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

probe := {"httpGet": {"path": "/healthz", "port": 8080}}

unprobed := {
	"containers": [
		{"name": "web", "image": "nginx", "livenessProbe": probe},
		{"name": "proxy", "image": "envoy"},
		{"name": "worker", "image": "app", "livenessProbe": null},
	],
	"initContainers": [
		{"name": "migrate", "image": "app"},
		{"name": "log-shipper", "image": "fluent-bit", "restartPolicy": "Always"},
	],
	"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
}

test_fires_once_per_app_container_without_liveness_probe if {
	findings := liveness_probe.violation with input as workload("Deployment", unprobed)
	count(findings) == 2
	findings == {
		{"msg": `container "proxy" of Deployment "api" has no livenessProbe`, "path": "/spec/template/spec/containers/1"},
		{"msg": `container "worker" of Deployment "api" has no livenessProbe`, "path": "/spec/template/spec/containers/2"},
	}
}

test_fires_for_daemonset_and_bare_pod if {
	count(liveness_probe.violation) == 2 with input as workload("DaemonSet", unprobed)
	findings := liveness_probe.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}}
	findings == {{"msg": `container "c" of Pod "p" has no livenessProbe`, "path": "/spec/containers/0"}}
}

test_quiet_when_every_app_container_has_a_liveness_probe if {
	count(liveness_probe.violation) == 0 with input as workload("StatefulSet", {
		"containers": [{"name": "web", "livenessProbe": probe}, {"name": "db", "livenessProbe": {"tcpSocket": {"port": 5432}}}],
		"initContainers": [{"name": "migrate"}],
	})
}

test_quiet_for_jobs_and_cronjobs if {
	count(liveness_probe.violation) == 0 with input as workload("Job", unprobed)
	count(liveness_probe.violation) == 0 with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": unprobed}}}},
	}}
}

test_quiet_for_non_workloads if {
	count(liveness_probe.violation) == 0 with input as workload("PodTemplate", unprobed)
}
