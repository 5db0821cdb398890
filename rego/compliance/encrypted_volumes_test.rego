package kubepolicy.compliance.encrypted_volumes_test

import data.kubepolicy.compliance.encrypted_volumes

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"spec": {
		"containers": [{"name": "api", "image": "registry.acme.com/api:1.0.0"}],
		"volumes": volumes,
	}}},
}

claim_volume(name, claim) := {"name": name, "persistentVolumeClaim": {"claimName": claim}}

pvc(name, spec) := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "shop"}, "spec": spec}

storage_class(name, extra) := object.union({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name}, "provisioner": "ebs.csi.aws.com"}, extra)

encrypted_gp3 := storage_class("gp3-encrypted", {"parameters": {"type": "gp3", "encrypted": "true"}})

plain_gp2 := storage_class("gp2", {"parameters": {"type": "gp2"}})

default_plain := storage_class("standard", {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})

marked_encrypted := storage_class("managed-csi", {"metadata": {"annotations": {"compliance.policy/encrypted": "true"}}})

classes := [encrypted_gp3, plain_gp2, default_plain, marked_encrypted]

claims := [
	pvc("orders", {"storageClassName": "gp3-encrypted"}),
	pvc("uploads", {"storageClassName": "gp2"}),
	pvc("cache", {}),
	pvc("reports", {"storageClassName": "managed-csi"}),
]

test_fires_once_per_volume_on_an_unencrypted_class if {
	workload := deployment([
		claim_volume("orders", "orders"),
		claim_volume("uploads", "uploads"),
		claim_volume("cache", "cache"),
		claim_volume("reports", "reports"),
		{"name": "tmp", "emptyDir": {}},
	])
	findings := encrypted_volumes.violation with input as {"object": workload, "context": {"persistentVolumeClaims": claims, "storageClasses": classes}}
	count(findings) == 2
	{f.path | some f in findings} == {"/spec/template/spec/volumes/1", "/spec/template/spec/volumes/2"}
	some explicit in findings
	explicit.path == "/spec/template/spec/volumes/1"
	explicit.msg == `volume "uploads" (claim "uploads") of Deployment "api" uses StorageClass "gp2", which is not marked encrypted`
	some defaulted in findings
	defaulted.path == "/spec/template/spec/volumes/2"
	defaulted.msg == `volume "cache" (claim "cache") of Deployment "api" uses StorageClass "standard" (the default StorageClass), which is not marked encrypted`
	count(encrypted_volumes.not_evaluated) == 0 with input as {"object": workload, "context": {"persistentVolumeClaims": claims, "storageClasses": classes}}
}

test_fires_for_statefulset_claim_templates_without_pvc_context if {
	sts := {
		"apiVersion": "apps/v1",
		"kind": "StatefulSet",
		"metadata": {"name": "db"},
		"spec": {
			"template": {"spec": {"containers": [{"name": "pg", "image": "postgres:16.3"}]}},
			"volumeClaimTemplates": [
				{"metadata": {"name": "data"}, "spec": {"storageClassName": "gp2"}},
				{"metadata": {"name": "wal"}, "spec": {"storageClassName": "gp3-encrypted"}},
				{"metadata": {"name": "scratch"}, "spec": {}},
			],
		},
	}
	findings := encrypted_volumes.violation with input as {"object": sts, "context": {"storageClasses": classes}}
	count(findings) == 2
	{f.path | some f in findings} == {"/spec/volumeClaimTemplates/0", "/spec/volumeClaimTemplates/2"}
	some f in findings
	f.path == "/spec/volumeClaimTemplates/0"
	f.msg == `volume claim template "data" of StatefulSet "db" uses StorageClass "gp2", which is not marked encrypted`
	count(encrypted_volumes.not_evaluated) == 0 with input as {"object": sts, "context": {"storageClasses": classes}}
}

test_fires_for_generic_ephemeral_volumes if {
	workload := deployment([{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"storageClassName": "gp2"}}}}])
	[f] := [f | some f in encrypted_volumes.violation] with input as {"object": workload, "context": {"storageClasses": classes}}
	f.path == "/spec/template/spec/volumes/0"
	f.msg == `ephemeral volume "scratch" of Deployment "api" uses StorageClass "gp2", which is not marked encrypted`
}

test_quiet_when_every_class_is_marked_encrypted if {
	encrypted_default := storage_class("standard", {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "parameters": {"encrypted": "true"}})
	workload := deployment([claim_volume("orders", "orders"), claim_volume("reports", "reports"), claim_volume("cache", "cache")])
	context := {"persistentVolumeClaims": claims, "storageClasses": [encrypted_gp3, marked_encrypted, encrypted_default]}
	count(encrypted_volumes.violation) == 0 with input as {"object": workload, "context": context}
	count(encrypted_volumes.not_evaluated) == 0 with input as {"object": workload, "context": context}
}

test_quiet_without_pvc_volumes_even_without_context if {
	workload := deployment([{"name": "tmp", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg"}}])
	count(encrypted_volumes.violation) == 0 with input as {"object": workload}
	count(encrypted_volumes.not_evaluated) == 0 with input as {"object": workload}
}

test_quiet_for_non_workloads if {
	claim := pvc("uploads", {"storageClassName": "gp2"})
	count(encrypted_volumes.violation) == 0 with input as {"object": claim, "context": {"persistentVolumeClaims": [claim], "storageClasses": classes}}
	count(encrypted_volumes.not_evaluated) == 0 with input as {"object": claim}
}

test_not_evaluated_once_per_workload_without_context if {
	workload := deployment([claim_volume("uploads", "uploads"), claim_volume("cache", "cache")])
	count(encrypted_volumes.violation) == 0 with input as {"object": workload}
	[reason] := [r | some r in encrypted_volumes.not_evaluated] with input as {"object": workload}
	reason.msg == `Deployment "api": PersistentVolumeClaims and StorageClasses not known, so the encryption of its persistent volumes was not checked`
}

test_not_evaluated_without_storage_classes if {
	workload := deployment([claim_volume("uploads", "uploads")])
	count(encrypted_volumes.violation) == 0 with input as {"object": workload, "context": {"persistentVolumeClaims": claims}}
	[reason] := [r | some r in encrypted_volumes.not_evaluated] with input as {"object": workload, "context": {"persistentVolumeClaims": claims}}
	reason.msg == `Deployment "api": StorageClasses not known, so the encryption of its persistent volumes was not checked`
}

test_not_evaluated_per_volume_when_claim_or_class_cannot_be_resolved if {
	workload := deployment([
		claim_volume("missing", "missing-claim"),
		claim_volume("custom", "custom"),
		claim_volume("nodefault", "nodefault"),
		claim_volume("static", "static"),
		claim_volume("uploads", "uploads"),
	])
	context := {
		"persistentVolumeClaims": [
			pvc("custom", {"storageClassName": "fast-nvme"}),
			pvc("nodefault", {}),
			pvc("static", {"storageClassName": "", "volumeName": "pv-0001"}),
			pvc("uploads", {"storageClassName": "gp2"}),
		],
		"storageClasses": [plain_gp2],
	}
	findings := encrypted_volumes.violation with input as {"object": workload, "context": context}
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/volumes/4"
	reasons := {r.msg | some r in encrypted_volumes.not_evaluated} with input as {"object": workload, "context": context}
	reasons == {
		`volume "missing" (claim "missing-claim") of Deployment "api": PersistentVolumeClaim "missing-claim" is not in the context, so its StorageClass is unknown`,
		`volume "custom" (claim "custom") of Deployment "api" uses StorageClass "fast-nvme", which is not in the context`,
		`volume "nodefault" (claim "nodefault") of Deployment "api" names no StorageClass and there is no default StorageClass`,
		`volume "static" (claim "static") of Deployment "api" requests no StorageClass (storageClassName ""), so the encryption of its PersistentVolume cannot be checked`,
	}
}

test_claims_of_another_namespace_do_not_count if {
	workload := deployment([claim_volume("uploads", "uploads")])
	elsewhere := object.union(pvc("uploads", {"storageClassName": "gp3-encrypted"}), {"metadata": {"namespace": "other"}})
	context := {"persistentVolumeClaims": [elsewhere], "storageClasses": classes}
	count(encrypted_volumes.violation) == 0 with input as {"object": workload, "context": context}
	count(encrypted_volumes.not_evaluated) == 1 with input as {"object": workload, "context": context}
}

test_beta_class_annotation_wins_over_the_field if {
	workload := deployment([claim_volume("uploads", "uploads")])
	claim := pvc("uploads", {"storageClassName": "gp3-encrypted"})
	annotated := object.union(claim, {"metadata": {"annotations": {"volume.beta.kubernetes.io/storage-class": "gp2"}}})
	count(encrypted_volumes.violation) == 1 with input as {"object": workload, "context": {"persistentVolumeClaims": [annotated], "storageClasses": classes}}
}

test_newest_default_class_wins if {
	workload := deployment([claim_volume("cache", "cache")])
	old_default := storage_class("old", {"metadata": {"creationTimestamp": "2021-01-01T00:00:00Z", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})
	new_default := storage_class("new", {"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z", "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "true"}}, "parameters": {"encrypted": "true"}})
	context := {"persistentVolumeClaims": [pvc("cache", {})], "storageClasses": [old_default, new_default]}
	count(encrypted_volumes.violation) == 0 with input as {"object": workload, "context": context}
	count(encrypted_volumes.violation) == 1 with input as {"object": workload, "context": {"persistentVolumeClaims": [pvc("cache", {})], "storageClasses": [old_default]}}
}
