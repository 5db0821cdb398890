package kubepolicy.compliance.image_version_tag_test

import data.kubepolicy.compliance.image_version_tag

cronjob(pod_spec) := {"object": {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "report", "namespace": "finance"},
	"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
}}

test_fires_once_per_container_without_a_version_tag if {
	findings := image_version_tag.violation with input as cronjob({
		"containers": [
			{"name": "app", "image": "registry.acme.com/report:stable"},
			{"name": "ok", "image": "registry.acme.com/report:1.4.2"},
			{"name": "v", "image": "registry.acme.com/report:v2.0"},
		],
		"initContainers": [
			{"name": "setup", "image": "busybox"},
			{"name": "migrate", "image": "registry.acme.com/migrate:latest"},
		],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/jobTemplate/spec/template/spec/containers/0/image",
		"/spec/jobTemplate/spec/template/spec/initContainers/0/image",
		"/spec/jobTemplate/spec/template/spec/initContainers/1/image",
	}
	some tagged in findings
	tagged.path == "/spec/jobTemplate/spec/template/spec/containers/0/image"
	tagged.msg == `container "app" of CronJob "report" uses image "registry.acme.com/report:stable", whose tag "stable" is not a version (e.g. 1.4.2, v2.0) and is not pinned by digest`
	some untagged in findings
	untagged.path == "/spec/jobTemplate/spec/template/spec/initContainers/0/image"
	untagged.msg == `init container "setup" of CronJob "report" uses image "busybox", which has no version tag and is not pinned by digest`
}

test_quiet_for_version_tags_and_digest_pins if {
	count(image_version_tag.violation) == 0 with input as cronjob({
		"containers": [
			{"name": "a", "image": "nginx:1.25.3-alpine"},
			{"name": "b", "image": "registry.acme.com:5000/team/app:main@sha256:0123abcd"},
			{"name": "c", "image": "registry.acme.com/app@sha256:0123abcd"},
		],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
	})
}

test_quiet_for_non_workloads if {
	count(image_version_tag.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x", "image": "nginx:stable"}]}}}}}
}
