# METADATA
# title: Backup annotation
# description: >-
#   A workload that keeps data on PersistentVolumeClaims declares which volumes Velero backs up with the
#   backup.velero.io/backup-volumes annotation, so that its data is in the backups a restore relies on.
# custom:
#   id: backup-annotation
#   category: operations
#   severity: medium
#   frameworks:
#     SOC2: ["A1.2"]
#     HIPAA: ["164.308(a)(7)"]
#     ISO27001: ["A.8.13"]
#   remediation: Annotate the pod template with backup.velero.io/backup-volumes listing the PersistentVolumeClaim volumes to back up.
package kubepolicy.operations.backup_annotation

import data.lib.kubernetes as k8s
import data.lib.text

backup_annotation := "backup.velero.io/backup-volumes"

# On the pod template (where Velero reads it) or, as a declaration of intent, on the workload itself.
annotated if present(k8s.pod_annotations)

annotated if present(k8s.annotations)

present(annotations) if {
	value := annotations[backup_annotation]
	is_string(value)
	trim_space(value) != ""
}

volume_names := sort({v.volume | some v in k8s.pvc_volumes})

annotations_path := concat("", [k8s.pod_metadata_pointer, "/annotations"]) if is_object(k8s.pod_metadata.annotations)

else := k8s.pod_metadata_pointer

where := "pod" if k8s.kind == "Pod"

else := "pod template"

violation contains {
	"msg": concat("", [k8s.workload, " mounts PersistentVolumeClaim volumes (", concat(", ", volume_names), ") but its ", text.str(where), " has no ", text.str(backup_annotation), " annotation"]),
	"path": annotations_path,
} if {
	k8s.is_workload
	k8s.has_pvc_volumes
	not annotated
}
