package kubepolicy.operations.backup_annotation_test

import data.kubepolicy.operations.backup_annotation

deployment(metadata, pod_metadata, volumes) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "db", "namespace": "shop"}, metadata),
	"spec": {"template": {"metadata": pod_metadata, "spec": {
		"containers": [{"name": "db", "image": "postgres:16"}],
		"volumes": volumes,
	}}},
}}

claim(name) := {"name": name, "persistentVolumeClaim": {"claimName": sprintf("db-%s", [name])}}

test_fires_once_for_workload_with_claims_and_no_annotation if {
	findings := backup_annotation.violation with input as deployment({}, {"labels": {"app": "db"}}, [claim("wal"), claim("data"), {"name": "tmp", "emptyDir": {}}])
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "db" mounts PersistentVolumeClaim volumes (data, wal) but its pod template has no backup.velero.io/backup-volumes annotation`
	f.path == "/spec/template/metadata"
}

test_fires_for_statefulset_claim_templates if {
	[f] := [f | some f in backup_annotation.violation] with input as {"object": {
		"kind": "StatefulSet",
		"metadata": {"name": "db"},
		"spec": {
			"template": {"metadata": {"annotations": {"team": "shop"}}, "spec": {"containers": [{"name": "db"}]}},
			"volumeClaimTemplates": [{"metadata": {"name": "data"}}],
		},
	}}
	f.path == "/spec/template/metadata/annotations"
}

test_quiet_with_annotation_on_pod_template if {
	count(backup_annotation.violation) == 0 with input as deployment({}, {"annotations": {"backup.velero.io/backup-volumes": "data"}}, [claim("data")])
}

test_quiet_with_annotation_on_workload if {
	count(backup_annotation.violation) == 0 with input as deployment({"annotations": {"backup.velero.io/backup-volumes": "data"}}, {}, [claim("data")])
}

test_quiet_without_claims if {
	count(backup_annotation.violation) == 0 with input as deployment({}, {}, [{"name": "tmp", "emptyDir": {}}])
}
