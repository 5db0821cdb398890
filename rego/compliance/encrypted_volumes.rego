# METADATA
# title: Encrypted persistent volumes
# description: >-
#   Data at rest on persistent volumes must be encrypted: every PVC-backed volume must use a StorageClass marked
#   encrypted (parameter encrypted "true", or annotation compliance.policy/encrypted "true"). Needs the namespace's
#   PersistentVolumeClaims and the cluster's StorageClasses.
# custom:
#   id: encrypted-volumes
#   category: compliance
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1"]
#     HIPAA: ["164.312(a)(2)(iv)"]
#     PCI-DSS: ["3.5.1"]
#     ISO27001: ["A.8.24"]
#   remediation: Use a StorageClass that encrypts its volumes and mark it with parameters.encrypted or the annotation compliance.policy/encrypted set to "true".
package kubepolicy.compliance.encrypted_volumes

import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [text.str(describe(volume)), " of ", k8s.workload, " uses StorageClass \"", text.str(class.name), "\"", text.str(default_note(class)), ", which is not marked encrypted"]),
	"path": volume.pointer,
} if {
	facts_known
	some volume in pvc_backed_volumes
	class := class_of(claim_of(volume))
	storage := storage_class(class.name)
	not encrypted(storage)
}

not_evaluated contains {"msg": concat("", [k8s.workload, ": ", concat(" and ", sort([fact_names[key] | some key in missing])), " not known, so the encryption of its persistent volumes was not checked"])} if {
	not facts_known
}

not_evaluated contains {"msg": concat("", [text.str(describe(volume)), " of ", k8s.workload, ": PersistentVolumeClaim \"", text.str(volume.claim), "\" is not in the context, so its StorageClass is unknown"])} if {
	facts_known
	some volume in pvc_backed_volumes
	volume.source == "claim"
	not claim_of(volume)
}

not_evaluated contains {"msg": concat("", [text.str(describe(volume)), " of ", k8s.workload, " requests no StorageClass (storageClassName \"\"), so the encryption of its PersistentVolume cannot be checked"])} if {
	facts_known
	some volume in pvc_backed_volumes
	requested_class(claim_of(volume)) == ""
}

not_evaluated contains {"msg": concat("", [text.str(describe(volume)), " of ", k8s.workload, " names no StorageClass and there is no default StorageClass"])} if {
	facts_known
	some volume in pvc_backed_volumes
	claim := claim_of(volume)
	not requested_class(claim)
	not default_class
}

not_evaluated contains {"msg": concat("", [text.str(describe(volume)), " of ", k8s.workload, " uses StorageClass \"", text.str(class.name), "\", which is not in the context"])} if {
	facts_known
	some volume in pvc_backed_volumes
	class := class_of(claim_of(volume))
	not storage_class(class.name)
}

# Volumes whose data lands on a PersistentVolume: claims the pod mounts, StatefulSet volumeClaimTemplates
# (the template is the claim) and generic ephemeral volumes (their inline claim template).
pvc_backed_volumes contains {"source": "claim", "name": v.volume, "claim": v.claim, "pointer": v.pointer} if {
	some v in k8s.pvc_volumes
	not v.template
}

pvc_backed_volumes contains {"source": "template", "name": v.volume, "claim": v.claim, "pointer": v.pointer, "template": v.template} if {
	some v in k8s.pvc_volumes
	v.template
}

pvc_backed_volumes contains {"source": "ephemeral", "name": v.name, "claim": v.name, "pointer": concat("", [k8s.pod_spec_pointer, "/volumes/", text.int(i)]), "template": v.ephemeral.volumeClaimTemplate} if {
	some i, v in k8s.volumes
	is_object(v.ephemeral.volumeClaimTemplate)
}

describe(volume) := concat("", ["volume \"", text.str(volume.name), "\" (claim \"", text.str(volume.claim), "\")"]) if volume.source == "claim"

describe(volume) := concat("", ["volume claim template \"", text.str(volume.name), "\""]) if volume.source == "template"

describe(volume) := concat("", ["ephemeral volume \"", text.str(volume.name), "\""]) if volume.source == "ephemeral"

# Context facts: StorageClasses for any PVC-backed volume, the namespace's claims only for mounted claims.
needed contains "storageClasses" if count(pvc_backed_volumes) > 0

needed contains "persistentVolumeClaims" if {
	some volume in pvc_backed_volumes
	volume.source == "claim"
}

missing := {key | some key in needed; not k8s.known(key)}

facts_known if count(missing) == 0

fact_names := {"persistentVolumeClaims": "PersistentVolumeClaims", "storageClasses": "StorageClasses"}

# The claim object behind a volume: the inline template, or the namespace's PersistentVolumeClaim of that name.
claim_of(volume) := volume.template if volume.source != "claim"

claim_of(volume) := found[0] if {
	volume.source == "claim"
	found := [claim |
		some claim in k8s.context_list("persistentVolumeClaims")
		claim.metadata.name == volume.claim
		same_namespace(claim)
	]
}

# Context lists are per namespace already; only an explicit mismatch (offline, several namespaces) excludes.
same_namespace(claim) if not claim.metadata.namespace

same_namespace(_) if not k8s.obj.metadata.namespace

same_namespace(claim) if claim.metadata.namespace == k8s.obj.metadata.namespace

beta_class_annotation := "volume.beta.kubernetes.io/storage-class"

claim_annotations(claim) := object.get(object.get(claim, "metadata", {}), "annotations", {})

# The StorageClass a claim asks for, as Kubernetes reads it: the deprecated beta annotation wins over the field.
# "" asks for no class at all; undefined means "the default class".
requested_class(claim) := claim_annotations(claim)[beta_class_annotation]

requested_class(claim) := claim.spec.storageClassName if {
	not beta_class_annotation in object.keys(claim_annotations(claim))
	is_string(claim.spec.storageClassName)
}

class_of(claim) := {"name": name, "default": false} if {
	name := requested_class(claim)
	name != ""
}

class_of(claim) := {"name": default_class, "default": true} if not requested_class(claim)

default_note(class) := " (the default StorageClass)" if class.default

default_note(class) := "" if not class.default

storage_class(name) := found[0] if {
	found := [class | some class in k8s.context_list("storageClasses"); class.metadata.name == name]
}

default_classes := [class | some class in k8s.context_list("storageClasses"); is_default(class)]

is_default(class) if class.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"

is_default(class) if class.metadata.annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true"

# With several defaults Kubernetes picks the newest, then the first by name.
newest_default := max({object.get(class.metadata, "creationTimestamp", "") | some class in default_classes})

default_class := min({class.metadata.name |
	some class in default_classes
	object.get(class.metadata, "creationTimestamp", "") == newest_default
})

encrypted(class) if class.parameters.encrypted in {"true", true}

encrypted(class) if class.metadata.annotations["compliance.policy/encrypted"] == "true"
